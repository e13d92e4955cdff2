/**
 * `custodia <command>` — see `custodia help`. Contract (README, "The CLI"): validate, verify, start,
 * send, status, list. Exit codes: 0 ok, 1 the thing asked for failed (invalid definition, event
 * refused, …), 2 bad usage. Commands load lazily, so `validate` never loads the Temporal client.
 */
import { warnUnknownSettings } from '../settings.ts';
import { UsageError } from './options.ts';

const HELP = `custodia — durable, auditable procedures

Usage:
  custodia validate <file|dir>...                check definitions; prints file:line:col CODE message
  custodia verify <file|dir>...                  prove every invariant on all paths; prints counterexamples
  custodia coverage [dir...] [--json] [--lang zh] [--verbose]
                                                 which clause of §3–§5 each definition and test covers
  custodia start <procedureId> [--input JSON] [--as USER:ROLE[,ROLE]]
                                                 start an instance; prints its workflow id
  custodia send <workflowId> <EVENT> [--data JSON] --as USER:ROLE[,ROLE]
                                                 send an event; prints the new state or the refusal
  custodia assign <workflowId> <user|-> [--state S] --as USER:ROLE[,ROLE]
                                                 claim (user = yourself), release (-), delegate or assign
                                                 the task of an active state
  custodia token --as USER[:ROLE,…] [--workflow ID] [--ttl DURATION]
                                                 print an actor assertion for a directory user (default
                                                 PT15M, at most P1D), for "assertion" in the event update
  custodia status <workflowId>                   the instance's snapshot (JSON)
  custodia list [--procedure ID] [--state S] [--client C] [--awaiting ROLE] [--stalled] [--idle P3D] [--limit N] [--json]
                                                 list instances (Temporal visibility)
  custodia setup                                 register Custodia's search attributes on the configured cluster
  custodia user create <id> --name "…" --roles a,b [--clients c1,c2] [--password-stdin]
  custodia user reset-password <id> [--password-stdin]
  custodia user list [--json] | roles [--json] | assign <id> [--clients c1,c2] [--roles a,b]
  custodia user disable <id> | enable <id>       the user directory (every change is audited); roles:
                                                 those the definitions declare, plus admin and auditor
  custodia audit verify [--json]                 recompute the audit hash chain, compare it with the signed
                                                 checkpoints; exit 1 listing any problem
  custodia audit checkpoint                      sign the chain head now (also every 100 appends and at shutdown)
  custodia audit export [<subject>] [--client C] [--out FILE]
                                                 entries + signed checkpoints + public key (JSON)
  custodia audit show <workflowId> | --client C [--format text|csv|json]
                                                 the audit records of an instance or a client
  custodia evidence --client C [--from DATE] [--to DATE] [--lang zh|en] --out DIR
                                                 the assessor's evidence pack: a PDF report and a zip (audit
                                                 chain segment, signed checkpoint, proofs, logs, manifest)
  custodia evidence verify DIR                   re-check a pack offline; exit 1 naming the first failure
  custodia migrate <procedure> [--to VERSION] --dry-run [--within PT1H] [--json] | --as USER
                                                 classify the running instances for a move to a deployed
                                                 version (default the highest); with --as (an admin) move
                                                 those that can, each audited
  custodia serve                                 the HTTP API alone (CUSTODIA_HTTP_PORT, default 8080), for
                                                 API and workers in separate processes (use DATABASE_URL)

Connection: temporal.config.yaml, overridable by TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, CUSTODIA_TASK_QUEUE, …
Definitions: definitions/ (CUSTODIA_DEFINITIONS to change).
Records: DATABASE_URL (PostgreSQL), else the embedded store in data/records (CUSTODIA_RECORDS_DIR).
Every setting: the README's "Settings" table.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  warnUnknownSettings();
  switch (command) {
    case 'validate':
      return (await import('./validate.ts')).validateCommand(rest);
    case 'verify':
      return (await import('./verify.ts')).verifyCommand(rest);
    case 'coverage':
      return (await import('./coverage.ts')).coverageCommand(rest);
    case 'start':
      return (await import('./instance-commands.ts')).startCommand(rest);
    case 'send':
      return (await import('./instance-commands.ts')).sendCommand(rest);
    case 'assign':
      return (await import('./assign.ts')).assignCommand(rest);
    case 'token':
      return (await import('./token.ts')).tokenCommand(rest);
    case 'status':
      return (await import('./instance-commands.ts')).statusCommand(rest);
    case 'list':
      return (await import('./list.ts')).listCommand(rest);
    case 'setup':
      return (await import('./setup.ts')).setupCommand(rest);
    case 'user':
      return (await import('./user.ts')).userCommand(rest);
    case 'audit':
      return (await import('./audit.ts')).auditCommand(rest);
    case 'evidence':
      return (await import('./evidence.ts')).evidenceCommand(rest);
    case 'migrate':
      return (await import('./migrate.ts')).migrateCommand(rest);
    case 'serve':
      // Checked here, so the API's module needs nothing from the CLI's.
      if (rest.length)
        throw new UsageError('serve takes no arguments (configure it with environment variables)');
      return (await import('../api/serve-command.ts')).serveCommand();
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`custodia: ${err.message}\nRun \`custodia help\` for usage.`);
      process.exit(2);
    }
    console.error(`custodia: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
