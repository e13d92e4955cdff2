/** `custodia validate <file|dir>...` — every problem as `file:line:col CODE message`; exit 1 on any error. */
import { existsSync } from 'node:fs';
import { formatDiagnostic } from '../../workflows/core/diagnostics.ts';
import { loadDefinitions } from '../definitions.ts';
import { UsageError } from './options.ts';

export function validateCommand(args: string[]): number {
  if (!args.length) throw new UsageError('validate needs at least one file or folder');
  for (const a of args) if (!existsSync(a)) throw new UsageError(`no such file or folder: ${a}`);
  const set = loadDefinitions(args);
  for (const d of set.diagnostics)
    (d.severity === 'error' ? console.error : console.warn)(formatDiagnostic(d));
  const errors = set.diagnostics.filter((d) => d.severity === 'error').length;
  if (!set.files.length) {
    console.error('no definitions (*.yaml, *.yml) found');
    return 1;
  }
  if (errors) {
    console.error(`${errors} problem(s) in ${set.files.length} file(s)`);
    return 1;
  }
  console.log(`${set.files.length} definition(s) valid: ${[...set.definitions.keys()].join(', ')}`);
  return 0;
}
