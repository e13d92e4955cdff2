/**
 * First run: while the user directory is empty, `npm start` prints a one-time setup link (a fresh
 * random token, good for one hour and once; the store keeps only its hash) where the first
 * administrator is created. There is no default account and no default password. Once an
 * administrator exists the link is void and the setup route answers 409.
 */
import type { RecordsStore } from './records/types.ts';

/** The page of the web UI that creates the first administrator; the token travels in the fragment. */
export function setupLink(baseUrl: string, token: string): string {
  return `${baseUrl}/setup#${token}`;
}

/**
 * Issue a setup token when the directory is empty and print its link with `log` (console only);
 * returns the link, or undefined when users exist.
 */
export async function announceSetupLink(
  store: Pick<RecordsStore, 'issueSetupToken'>,
  baseUrl: string,
  log: (line: string) => void = console.log,
): Promise<string | undefined> {
  const issued = await store.issueSetupToken();
  if (!issued) return undefined;
  const link = setupLink(baseUrl, issued.token);
  const until = issued.expiresAt.slice(11, 16);
  log(
    'custodia: no user exists yet. Create the first administrator (link good once, until ' + until + ' UTC):',
  );
  log(`custodia:   ${link}`);
  log('custodia: (restart to get a new link; it is shown only here)');
  return link;
}
