/**
 * `custodia <command>` — see `custodia help`. Contract (DESIGN.md): validate, verify, start,
 * send, status, list. Exit codes: 0 ok, 1 the thing asked for failed (invalid definition, event
 * refused, …), 2 bad usage.
 */
import { listCommand } from './list.ts';
import { sendCommand, startCommand, statusCommand } from './instance-commands.ts';
import { validateCommand } from './validate.ts';
import { verifyCommand } from './verify.ts';
import { setupCommand } from './setup.ts';
import { UsageError } from './options.ts';

const HELP = `custodia — durable, auditable procedures

Usage:
  custodia validate <file|dir>...                check definitions; prints file:line:col CODE message
  custodia verify <file|dir>...                  prove every invariant on all paths; prints counterexamples
  custodia start <procedureId> [--input JSON] [--as USER:ROLE[,ROLE]]
                                                 start an instance; prints its workflow id
  custodia send <workflowId> <EVENT> [--data JSON] --as USER:ROLE[,ROLE]
                                                 send an event; prints the new state or the refusal
  custodia status <workflowId>                   the instance's snapshot (JSON)
  custodia list [--procedure ID] [--state S] [--client C] [--awaiting ROLE] [--stalled] [--idle P3D] [--limit N] [--json]
                                                 list instances (Temporal visibility)
  custodia setup                                 register Custodia's search attributes on the configured cluster

Connection: temporal.config.yaml, overridable by TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, CUSTODIA_TASK_QUEUE, …
Definitions: definitions/ (CUSTODIA_DEFINITIONS to change).`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'validate':
      return validateCommand(rest);
    case 'verify':
      return verifyCommand(rest);
    case 'start':
      return startCommand(rest);
    case 'send':
      return sendCommand(rest);
    case 'status':
      return statusCommand(rest);
    case 'list':
      return listCommand(rest);
    case 'setup':
      return setupCommand(rest);
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
