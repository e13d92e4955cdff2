/**
 * The settings module: every variable Custodia reads is declared once, documented in the README's
 * generated table, and unknown `CUSTODIA_*` variables are named at start.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  allClientRoleIds,
  definitionDirs,
  httpSettings,
  recordsLocation,
  REPO_ROOT,
  SETTINGS,
  settingsTable,
  unknownSettings,
  warnUnknownSettings,
} from '../../worker/settings.ts';

const README = path.join(REPO_ROOT, 'README.md');

/** The README text between the settings markers. */
function readmeTable(): string {
  const text = readFileSync(README, 'utf8');
  const match = /<!-- settings:begin[^>]*-->\n([\s\S]*?)\n<!-- settings:end -->/.exec(text);
  if (!match) throw new Error('README.md has no <!-- settings:begin --> … <!-- settings:end --> section');
  return match[1]!;
}

describe('settings', () => {
  it('the README table is the one generated from SETTINGS (regenerate it with settingsTable())', () => {
    expect(readmeTable()).toBe(settingsTable());
  });

  it('the README table lists exactly the settings the module knows', () => {
    const listed = [...readmeTable().matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(Object.keys(SETTINGS).sort());
  });

  it('no module other than settings.ts reads a setting from process.env', () => {
    const offenders: string[] = [];
    const visit = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) visit(full);
        else if (/\.ts$/.test(entry.name) && !full.endsWith(path.join('worker', 'settings.ts'))) {
          const text = readFileSync(full, 'utf8');
          for (const name of Object.keys(SETTINGS))
            if (new RegExp(`env(\\.${name}\\b|\\[['"]${name}['"]\\])`).test(text))
              offenders.push(`${path.relative(REPO_ROOT, full)}: ${name}`);
        }
      }
    };
    // The API's listen.ts / oidc.ts are switched to settings.ts separately.
    for (const dir of ['worker', 'workflows']) visit(path.join(REPO_ROOT, dir));
    expect(offenders.filter((o) => !/^worker\/api\/(listen|oidc)\.ts/.test(o))).toEqual([]);
  });

  it('names unknown CUSTODIA_* variables, one line each, with a near match when there is one', () => {
    const env = {
      CUSTODIA_HTTP_PROT: '80',
      CUSTODIA_RECORDS_DIR: '/x',
      CUSTODIA_WHATEVER: '1',
      PATH: '/bin',
    };
    expect(unknownSettings(env)).toEqual(['CUSTODIA_HTTP_PROT', 'CUSTODIA_WHATEVER']);
    const lines: string[] = [];
    warnUnknownSettings(env, (l) => lines.push(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /CUSTODIA_HTTP_PROT is not a Custodia setting.*did you mean CUSTODIA_HTTP_PORT\?/,
    );
    expect(lines[1]).toMatch(/CUSTODIA_WHATEVER is not a Custodia setting \(ignored\)$/);
  });

  it('typed readers: defaults, overrides and refusals', () => {
    expect(definitionDirs({})).toEqual([path.join(REPO_ROOT, 'definitions')]);
    expect(definitionDirs({ CUSTODIA_DEFINITIONS: 'a, b' })).toEqual([
      path.join(REPO_ROOT, 'a'),
      path.join(REPO_ROOT, 'b'),
    ]);
    expect(recordsLocation({})).toEqual({ dataDir: path.join(REPO_ROOT, 'data/records') });
    expect(recordsLocation({ CUSTODIA_RECORDS_DIR: ':memory:' })).toEqual({ dataDir: null });
    expect(recordsLocation({ DATABASE_URL: ' postgres://x/y ' })).toEqual({ databaseUrl: 'postgres://x/y' });
    expect(httpSettings({})).toEqual({ port: 8080, host: '127.0.0.1', secureCookies: false });
    expect(() => httpSettings({ CUSTODIA_HTTP_PORT: '99999' })).toThrow(/CUSTODIA_HTTP_PORT/);
    expect(allClientRoleIds({})).toEqual(['quality_manager', 'general_manager']);
    expect(allClientRoleIds({ CUSTODIA_ALL_CLIENT_ROLES: 'finance, legal' })).toEqual(['finance', 'legal']);
    expect(allClientRoleIds({ CUSTODIA_ALL_CLIENT_ROLES: '' })).toEqual([]);
    expect(() => allClientRoleIds({ CUSTODIA_ALL_CLIENT_ROLES: 'Finance' })).toThrow(/role ids/);
  });
});
