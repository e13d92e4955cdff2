/**
 * `custodia user …` — the embedded user directory. Every change is an audit record whose actor is
 * `cli:<operating-system user>`.
 *
 *   user create <id> --name "…" --roles a,b [--clients c1,c2] [--password-stdin | --oidc]
 *   user reset-password <id> [--password-stdin]
 *   user list [--json]
 *   user roles [--json]
 *   user assign <id> [--clients c1,c2] [--roles a,b]
 *   user disable <id> | user enable <id>
 *
 * Roles are those a user may hold (`knownRoles`): declared by the definition files
 * (`CUSTODIA_DEFINITIONS`) or by a version deployed in the store, plus the engine's `admin` and
 * `auditor`; `user roles` lists them.
 *
 * Passwords come from standard input (`--password-stdin`, up to the first newline's end) or an
 * interactive prompt (typed twice, not echoed); there is never a default, and fewer than 12
 * characters are refused. `--oidc` creates a user who signs in through the identity provider only
 * (its id is the provider's `CUSTODIA_OIDC_USER_CLAIM` value): the password is 256 random bits,
 * never shown, so it cannot be used.
 */
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { enrolOidcUser } from '../api/oidc-users.ts';
import { checkPasswordPolicy } from '../records/passwords.ts';
import { loadDefinitions } from '../definitions.ts';
import type { RecordsStore, Role, User } from '../records/types.ts';
import { productRoles, rolesProblem, type KnownRole } from '../roles.ts';
import { definitionDirs } from '../settings.ts';
import { withStore } from './audit.ts';
import { parseOptions, UsageError } from './options.ts';

export async function userCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create':
      return create(rest);
    case 'reset-password':
      return resetPassword(rest);
    case 'list':
      return list(rest);
    case 'roles':
      return listRoles(rest);
    case 'assign':
      return assign(rest);
    case 'disable':
    case 'enable':
      return setDisabled(rest, sub === 'disable');
    default:
      throw new UsageError(
        sub === undefined
          ? 'user needs a subcommand: create, reset-password, list, roles, assign, disable, enable'
          : `unknown user subcommand "${sub}"`,
      );
  }
}

/** Who the audit records name for acts done from this CLI. */
function cliActor(): string {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    name = process.env.USER;
  }
  return `cli:${name || 'unknown'}`;
}

function oneId(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new UsageError(usage);
  return positionals[0]!;
}

function listOption(value: string | boolean | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return String(value)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function rolesOption(value: string | boolean | undefined): Role[] | undefined {
  const roles = listOption(value);
  if (roles === undefined) return undefined;
  if (!roles.length) throw new UsageError('--roles needs at least one role');
  return roles;
}

/** The roles users may hold: the definition files' (those that load) and the store's deployed versions'. */
async function knownRolesIn(store: RecordsStore): Promise<Map<string, KnownRole>> {
  const files = loadDefinitions(definitionDirs(), process.cwd(), { verify: false });
  return productRoles(store, files.definitions.values());
}

/** Refuse roles no definition declares (before asking for a password). */
function checkRoles(roles: Role[], known: Map<string, KnownRole>): void {
  const problem = rolesProblem(roles, known);
  if (problem) throw new UsageError(`${problem} (\`custodia user roles\` lists them)`);
}

function describe(u: User): string {
  const clients = u.clients.length ? u.clients.join(',') : '-';
  return `${u.id}  ${u.displayName}  roles=${u.roles.join(',')}  clients=${clients}${u.disabled ? '  (disabled)' : ''}`;
}

async function create(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    name: { type: 'string' },
    roles: { type: 'string' },
    clients: { type: 'string' },
    'password-stdin': { type: 'boolean' },
    oidc: { type: 'boolean' },
  });
  const id = oneId(
    positionals,
    'usage: user create <id> --name "…" --roles a,b [--clients c1,c2] [--password-stdin | --oidc]',
  );
  if (values.oidc && values['password-stdin'])
    throw new UsageError('--oidc users have no usable password; give --oidc or --password-stdin, not both');
  const displayName = typeof values.name === 'string' ? values.name.trim() : '';
  if (!displayName) throw new UsageError('user create needs --name "Display Name"');
  const roles = rolesOption(values.roles);
  if (!roles) throw new UsageError('user create needs --roles a,b (`custodia user roles` lists them)');
  return withStore(async (store) => {
    const known = await knownRolesIn(store);
    checkRoles(roles, known);
    if (await store.getUser(id)) throw new Error(`user "${id}" already exists`);
    const password = values.oidc
      ? randomBytes(32).toString('base64url')
      : await readPassword(id, values['password-stdin'] === true);
    const user = await store.createUser(
      { id, displayName, roles, clients: listOption(values.clients) ?? [], password },
      cliActor(),
      known,
    );
    if (values.oidc) await enrolOidcUser(store, user.id, cliActor());
    console.log(`created ${describe(user)}`);
    return 0;
  });
}

async function resetPassword(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { 'password-stdin': { type: 'boolean' } });
  const id = oneId(positionals, 'usage: user reset-password <id> [--password-stdin]');
  return withStore(async (store) => {
    if (!(await store.getUser(id))) throw new Error(`no user "${id}"`);
    const password = await readPassword(id, values['password-stdin'] === true);
    await store.setPassword(id, password, cliActor());
    console.log(`password of ${id} replaced; their sessions are ended`);
    return 0;
  });
}

async function list(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { json: { type: 'boolean' } });
  if (positionals.length) throw new UsageError('user list takes no arguments');
  return withStore(async (store) => {
    const users = await store.listUsers();
    if (values.json) console.log(JSON.stringify(users, null, 2));
    else if (!users.length) console.error('no users yet: custodia user create <id> --name "…" --roles …');
    else for (const u of users) console.log(describe(u));
    return 0;
  });
}

async function listRoles(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, { json: { type: 'boolean' } });
  if (positionals.length) throw new UsageError('user roles takes no arguments');
  return withStore(async (store) => {
    const known = [...(await knownRolesIn(store)).values()];
    if (values.json) console.log(JSON.stringify(known, null, 2));
    else
      for (const r of known) {
        const from = r.engine ? 'engine' : r.procedures.join(',');
        console.log(`${r.id}  ${[r.title.en, r.title.zh].filter(Boolean).join(' / ')}  (${from})`);
      }
    return 0;
  });
}

async function assign(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    clients: { type: 'string' },
    roles: { type: 'string' },
  });
  const id = oneId(positionals, 'usage: user assign <id> [--clients c1,c2] [--roles a,b]');
  const clients = listOption(values.clients);
  const roles = rolesOption(values.roles);
  if (!clients && !roles)
    throw new UsageError('user assign needs --clients c1,c2 (or "" for none) and/or --roles a,b');
  return withStore(async (store) => {
    const known = roles && (await knownRolesIn(store));
    if (roles && known) checkRoles(roles, known);
    let user: User | undefined;
    if (clients) user = await store.assignClients(id, clients, cliActor());
    if (roles) user = await store.setRoles(id, roles, cliActor(), known || undefined);
    console.log(`updated ${describe(user!)}`);
    return 0;
  });
}

async function setDisabled(args: string[], disabled: boolean): Promise<number> {
  const { positionals } = parseOptions(args, {});
  const id = oneId(positionals, `usage: user ${disabled ? 'disable' : 'enable'} <id>`);
  return withStore(async (store) => {
    const user = await store.setDisabled(id, disabled, cliActor());
    console.log(`${disabled ? 'disabled' : 'enabled'} ${describe(user)}`);
    return 0;
  });
}

/** The new password: from stdin, or prompted twice on a terminal. Checked against the policy. */
async function readPassword(id: string, fromStdin: boolean): Promise<string> {
  let password: string;
  if (fromStdin) password = (await readAll(process.stdin)).replace(/\r?\n$/, '');
  else if (process.stdin.isTTY) {
    password = await promptHidden(`New password for ${id}: `);
    checkPasswordPolicy(password);
    if ((await promptHidden('Repeat it: ')) !== password)
      throw new Error('the passwords differ; nothing changed');
  } else
    throw new UsageError(
      'no password: pipe it in with --password-stdin, or run in a terminal to be prompted',
    );
  checkPasswordPolicy(password);
  return password;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** Read a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let chars: string[] = [];
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(chars.join(''));
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new Error('cancelled'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') chars = chars.slice(0, -1);
        else if (ch >= ' ') chars.push(ch);
      }
    };
    stdin.on('data', onData);
  });
}
