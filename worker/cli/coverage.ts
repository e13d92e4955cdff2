/**
 * `custodia coverage [dir...]` — which clause of the procedure (§3 responsibilities, §4 working
 * procedure, §5 records) is implemented where, and which test exercises it.
 *
 * **Definitions.** A clause is cited by a definition as a whole (`clauses:` at the top), by a
 * state, by a transition (delayed ones included) or by an invariant. A clause counts as covered
 * when it or any clause under it is cited; the report keeps the two apart (`via 4.1.1, 4.1.2`).
 *
 * **Tests.** A test names the clauses it exercises as tags in its title, e.g.
 * `it('[4.2.3][4.2.4] releases only with consent', …)`: one `[id]` per clause, anywhere in the
 * title of an `it(…)`, `test(…)` or `describe(…)` (with `.only`, `.concurrent`, … allowed;
 * `.skip` and `.todo` do not count; `it.each` tables are not read). Files scanned: every
 * `*.test.ts` under `test/scenarios/` and `test/integration/`.
 *
 * **Notes.** A §3 or §5 clause that no definition cites needs a reason in
 * `definitions/procedure/coverage-notes.yaml` (`'3.2.3': { zh: …, en: … }`). Every §4 clause must be
 * cited. Exit 1 when a §4 clause is uncovered or a §3/§5 clause is uncovered without a reason.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  clauseTitle,
  compareClauseIds,
  isWithinClause,
  parseClauses,
  type Clause,
  type ClauseLanguage,
} from '../../workflows/core/clauses.ts';
import { formatDiagnostic } from '../../workflows/core/diagnostics.ts';
import type { ProcedureIR, Text } from '../../workflows/core/ir.ts';
import { definitionFiles, loadDefinitions } from '../definitions.ts';
import { parseOptions, UsageError } from './options.ts';
import { stateTransitions, walkStates } from '../../workflows/core/ir-walk.ts';

/** The sections whose clauses must be accounted for, in report order. */
export const COVERED_SECTIONS = ['4', '3', '5'] as const;
/** Sections where a coverage note may stand in for a citation. */
const EXPLAINABLE = new Set(['3', '5']);

export type CitationKind = 'procedure' | 'state' | 'transition' | 'invariant';

/** One place in a definition that cites a clause. */
export interface Citation {
  clause: string;
  procedure: string;
  file: string;
  kind: CitationKind;
  /**
   * `submitted` (state), `submitted —APPROVE→ approved`, `active after P7D → expired` (`→ (stays)`
   * when targetless), an invariant id; empty for the procedure as a whole.
   */
  where: string;
  pointer: string;
}

/** A test whose title carries clause tags. */
export interface TestRef {
  file: string;
  line: number;
  title: string;
  clauses: string[];
}

/** How one definition cites one clause (directly). */
export interface DefinitionUse {
  procedure: string;
  file: string;
  procedureLevel: boolean;
  states: number;
  transitions: number;
  invariants: number;
}

export type CoverageStatus = 'cited' | 'sub_clauses' | 'explained' | 'uncovered';

export interface ClauseCoverage {
  id: string;
  section: string;
  parent?: string;
  heading?: true;
  title: Text;
  /** `cited` directly; covered only through `sub_clauses`; `explained` by a note; `uncovered`. */
  status: CoverageStatus;
  definitions: DefinitionUse[];
  citations: Citation[];
  /** Clauses under this one that some definition cites. */
  subClauses: string[];
  /** Tests tagged with exactly this clause. */
  tests: TestRef[];
  note?: Text;
}

export interface SectionSummary {
  section: string;
  total: number;
  cited: number;
  explained: number;
  tested: number;
  uncovered: string[];
}

export interface CoverageReport {
  /** The definitions looked at. */
  procedures: { id: string; file: string }[];
  clauses: ClauseCoverage[];
  sections: SectionSummary[];
  /** Each makes the command fail. */
  problems: string[];
  warnings: string[];
  ok: boolean;
}

/** Every clause citation of one definition. */
export function collectCitations(def: { file: string; ir: ProcedureIR }): Citation[] {
  const { ir, file } = def;
  const out: Citation[] = [];
  const add = (clauses: readonly string[], kind: CitationKind, where: string, pointer: string): void => {
    for (const clause of clauses) out.push({ clause, procedure: ir.id, file, kind, where, pointer });
  };
  add(ir.clauses, 'procedure', '', '/clauses');
  for (const node of walkStates(ir.root)) {
    const name = node.path || '(root)';
    // The root state carries the procedure's own clauses, already counted above.
    if (node.path) add(node.clauses, 'state', name, node.pointer);
    for (const x of stateTransitions(node)) {
      const t = x.transition;
      const label =
        x.kind === 'event'
          ? `—${x.transition.event}→`
          : x.kind === 'delayed'
            ? `after ${x.transition.delay} →`
            : x.kind === 'call'
              ? `call ${x.outcome} →`
              : `${x.kind === 'done' ? 'on_done' : 'always'} →`;
      add(t.clauses, 'transition', `${name} ${label} ${t.target ?? '(stays)'}`, t.pointer);
    }
    // `sla` reminders and escalations with clauses of their own act like delayed transitions that stay.
    const plan = node.slaPlan;
    plan?.remind.forEach((r, i) => {
      if (typeof r !== 'string' && r.clauses)
        add(
          r.clauses,
          'transition',
          `${name} sla remind after ${r.after} (stays)`,
          `${node.pointer}/sla/remind/${i}`,
        );
    });
    plan?.escalate.forEach((e, i) => {
      if (e.clauses)
        add(
          e.clauses,
          'transition',
          `${name} sla escalate after ${e.after} → ${e.to} (stays)`,
          `${node.pointer}/sla/escalate/${i}`,
        );
    });
  }
  ir.invariants.forEach((inv, i) => add(inv.clauses, 'invariant', inv.id, `/invariants/${i}`));
  return out;
}

const TEST_CALL =
  /(?<![\w$.])(it|test|describe)((?:\.(?:only|skip|todo|concurrent|sequential|fails|skipIf\([^)]*\)|runIf\([^)]*\)))*)\s*\(\s*(['"`])((?:\\.|(?!\3)[^\\])*)\3/g;
const TAG = /\[(\d+(?:\.\d+)*(?:\(\d+\))?)\]/g;

/** The tests of one source file whose titles carry clause tags (`[4.2.3]`). */
export function scanTestTags(source: string, file: string): TestRef[] {
  const out: TestRef[] = [];
  for (const m of source.matchAll(TEST_CALL)) {
    if (/\.(skip|todo)\b/.test(m[2] ?? '')) continue;
    const title = m[4] ?? '';
    const clauses = [...new Set([...title.matchAll(TAG)].map((t) => t[1] as string))];
    if (!clauses.length) continue;
    const line = source.slice(0, m.index).split('\n').length;
    out.push({ file, line, title, clauses });
  }
  return out;
}

/** Reasons for uncited clauses, from `coverage-notes.yaml` text; malformed entries as problems. */
export function parseCoverageNotes(text: string): { notes: Record<string, Text>; problems: string[] } {
  const doc: unknown = parseYaml(text, { schema: 'failsafe' }) ?? {};
  const notes: Record<string, Text> = {};
  const problems: string[] = [];
  if (typeof doc !== 'object' || Array.isArray(doc))
    return { notes, problems: ['not a map of clause: reason'] };
  for (const [clause, value] of Object.entries(doc as Record<string, unknown>)) {
    const v = value as Partial<Record<string, unknown>> | null;
    if (v && typeof v.zh === 'string' && v.zh.trim() && typeof v.en === 'string' && v.en.trim())
      notes[clause] = { zh: v.zh.trim(), en: v.en.trim() };
    else problems.push(`${clause}: the reason needs both zh and en`);
  }
  return { notes, problems };
}

/**
 * Coverage of every clause of §3–§5 (section titles themselves excepted) by the definitions,
 * the tagged tests and the notes. Pure: everything comes in as data.
 */
export function computeCoverage(
  clauses: readonly Clause[],
  definitions: Iterable<{ file: string; ir: ProcedureIR }>,
  tests: readonly TestRef[],
  notes: Readonly<Record<string, Text>> = {},
): CoverageReport {
  const known = new Set(clauses.map((c) => c.id));
  const defs = [...definitions];
  const procedures = defs.map((d) => ({ id: d.ir.id, file: d.file }));
  const citations = defs.flatMap(collectCitations);
  const warnings = unknownClauseWarnings(known, citations, tests, notes);
  const problems: string[] = [];
  const cited = new Set(citations.filter((c) => known.has(c.clause)).map((c) => c.clause));
  const statusOf = coverageStatuses(clauses, cited, notes);
  const rows = clauses
    .filter((c) => (COVERED_SECTIONS as readonly string[]).includes(c.section) && c.id !== c.section)
    .map((clause): ClauseCoverage => {
      const status = statusOf(clause);
      const note = EXPLAINABLE.has(clause.section) ? notes[clause.id] : undefined;
      // An uncovered heading is reported through the clauses under it.
      if (status === 'uncovered' && !clause.heading) problems.push(uncoveredProblem(clause, notes));
      else if (note && (status === 'cited' || status === 'sub_clauses'))
        warnings.push(`coverage note for ${clause.id} is not needed: the clause is cited`);
      const direct = citations.filter((c) => c.clause === clause.id);
      return {
        id: clause.id,
        section: clause.section,
        ...(clause.parent !== undefined ? { parent: clause.parent } : {}),
        ...(clause.heading ? { heading: true as const } : {}),
        title: { zh: clauseTitle(clause, 'zh', 1000), en: clauseTitle(clause, 'en', 1000) },
        status,
        definitions: groupByDefinition(direct),
        citations: direct,
        subClauses: citedUnder(cited, clause.id),
        tests: tests.filter((t) => t.clauses.includes(clause.id)),
        ...(note ? { note } : {}),
      };
    });
  const sections = COVERED_SECTIONS.map((section) => summarise(section, rows));
  return { procedures, clauses: rows, sections, problems, warnings, ok: problems.length === 0 };
}

/** Citations, test tags and notes that name no clause of the procedure (typos, stale ids). */
function unknownClauseWarnings(
  known: ReadonlySet<string>,
  citations: readonly Citation[],
  tests: readonly TestRef[],
  notes: Readonly<Record<string, Text>>,
): string[] {
  const out: string[] = [];
  const unknown = ', which is not a clause of the procedure';
  for (const c of citations)
    if (!known.has(c.clause)) out.push(`${c.file}: ${describeCitation(c)} cites ${c.clause}${unknown}`);
  for (const t of tests)
    for (const id of t.clauses)
      if (!known.has(id)) out.push(`${t.file}:${t.line}: test tag [${id}] is not a clause of the procedure`);
  for (const id of Object.keys(notes)) if (!known.has(id)) out.push(`coverage note for ${id}${unknown}`);
  return out;
}

/** The cited clauses strictly under `id`, in document order. */
function citedUnder(cited: ReadonlySet<string>, id: string): string[] {
  return [...cited].filter((c) => c !== id && isWithinClause(c, id)).sort(compareClauseIds);
}

/**
 * The status of each clause, bottom-up: cited; else covered through cited sub-clauses; else (in
 * §3/§5) explained by its own note or because every clause under it is explained; else uncovered.
 */
function coverageStatuses(
  clauses: readonly Clause[],
  cited: ReadonlySet<string>,
  notes: Readonly<Record<string, Text>>,
): (clause: Clause) => CoverageStatus {
  const children = new Map<string, Clause[]>();
  for (const c of clauses)
    if (c.parent !== undefined) children.set(c.parent, [...(children.get(c.parent) ?? []), c]);
  const statuses = new Map<string, CoverageStatus>();
  const statusOf = (clause: Clause): CoverageStatus => {
    const done = statuses.get(clause.id);
    if (done) return done;
    const kids = children.get(clause.id) ?? [];
    const explained =
      EXPLAINABLE.has(clause.section) &&
      (notes[clause.id] !== undefined || (kids.length > 0 && kids.every((k) => statusOf(k) !== 'uncovered')));
    const status: CoverageStatus = cited.has(clause.id)
      ? 'cited'
      : citedUnder(cited, clause.id).length
        ? 'sub_clauses'
        : explained
          ? 'explained'
          : 'uncovered';
    statuses.set(clause.id, status);
    return status;
  };
  return statusOf;
}

function uncoveredProblem(clause: Clause, notes: Readonly<Record<string, Text>>): string {
  if (EXPLAINABLE.has(clause.section))
    return `${clause.id} is cited by no definition and has no reason in coverage-notes.yaml`;
  const note = notes[clause.id] ? '; a note does not count' : '';
  return `${clause.id} is cited by no definition (every §${clause.section} clause must be implemented${note})`;
}

function summarise(section: string, rows: readonly ClauseCoverage[]): SectionSummary {
  const own = rows.filter((r) => r.section === section);
  return {
    section,
    total: own.length,
    cited: own.filter((r) => r.status === 'cited' || r.status === 'sub_clauses').length,
    explained: own.filter((r) => r.status === 'explained').length,
    tested: own.filter((r) => r.tests.length).length,
    uncovered: own.filter((r) => r.status === 'uncovered').map((r) => r.id),
  };
}

function groupByDefinition(citations: readonly Citation[]): DefinitionUse[] {
  const uses = new Map<string, DefinitionUse>();
  for (const c of citations) {
    const use = uses.get(c.procedure) ?? {
      procedure: c.procedure,
      file: c.file,
      procedureLevel: false,
      states: 0,
      transitions: 0,
      invariants: 0,
    };
    if (c.kind === 'procedure') use.procedureLevel = true;
    else if (c.kind === 'state') use.states++;
    else if (c.kind === 'transition') use.transitions++;
    else use.invariants++;
    uses.set(c.procedure, use);
  }
  return [...uses.values()];
}

function describeCitation(c: Citation): string {
  return c.kind === 'procedure' ? `procedure ${c.procedure}` : `${c.kind} ${c.where}`;
}

/** `*.test.ts` files under `test/scenarios` and `test/integration` of `cwd`. */
export function findTestFiles(cwd: string): string[] {
  const out: string[] = [];
  const visit = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) {
        if (name !== 'node_modules' && !name.startsWith('.')) visit(p);
      } else if (name.endsWith('.test.ts')) out.push(p);
    }
  };
  for (const root of ['test/scenarios', 'test/integration']) {
    const dir = path.join(cwd, root);
    if (existsSync(dir)) visit(dir);
  }
  return out;
}

/** `definitions/procedure`: the folder beside the definitions that holds the procedure texts. */
function procedureFolder(dirs: readonly string[], cwd: string): string {
  for (const dir of [...dirs, 'definitions']) {
    const candidate = path.resolve(cwd, dir, 'procedure');
    if (existsSync(path.join(candidate, 'clauses.zh.txt'))) return candidate;
  }
  throw new UsageError(`no procedure/clauses.zh.txt under ${dirs.join(', ')}`);
}

export async function coverageCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    json: { type: 'boolean' },
    lang: { type: 'string' },
    verbose: { type: 'boolean' },
  });
  const lang = values.lang ?? 'en';
  if (lang !== 'en' && lang !== 'zh') throw new UsageError('--lang must be en or zh');
  const dirs = positionals.length ? positionals : ['definitions'];
  for (const d of dirs) if (!existsSync(d)) throw new UsageError(`no such file or folder: ${d}`);
  const cwd = process.cwd();

  const folder = procedureFolder(dirs, cwd);
  const read = (name: string): string => readFileSync(path.join(folder, name), 'utf8');
  const clauses = parseClauses(read('clauses.zh.txt'), read('clauses.en.txt'));
  const notesFile = path.join(folder, 'coverage-notes.yaml');
  const parsedNotes = existsSync(notesFile) ? parseCoverageNotes(read('coverage-notes.yaml')) : undefined;
  // The procedure folder sits among the definitions but holds no definition.
  const files = definitionFiles(dirs).filter((f) => path.resolve(f) !== notesFile);
  const set = loadDefinitions(files, cwd, { verify: false });
  if (set.diagnostics.length)
    await emit(process.stderr, set.diagnostics.map((d) => `warning: ${formatDiagnostic(d)}\n`).join(''));
  const tests = findTestFiles(cwd).flatMap((f) =>
    scanTestTags(readFileSync(f, 'utf8'), path.relative(cwd, f)),
  );

  const report = computeCoverage(clauses, set.definitions.values(), tests, parsedNotes?.notes);
  for (const p of parsedNotes?.problems ?? []) report.problems.push(`coverage-notes.yaml: ${p}`);
  report.ok = report.problems.length === 0;
  if (values.json) await emit(process.stdout, `${JSON.stringify(report, null, 2)}\n`);
  else await printReport(report, lang, values.verbose === true);
  return report.ok ? 0 : 1;
}

/** The table on stdout, then warnings and problems on stderr, then the summary line on stdout. */
async function printReport(report: CoverageReport, lang: ClauseLanguage, verbose: boolean): Promise<void> {
  const titleWidth = 48;
  const ids = report.procedures.map((p) => p.id);
  const out = [
    `${ids.length} definition(s): ${ids.join(', ') || 'none'}`,
    '',
    `${pad('clause', 8)}${pad('title', titleWidth + 2)}${pad('tests', 7)}definitions`,
  ];
  for (const row of report.clauses) {
    const title = truncate(row.title[lang] ?? '', titleWidth);
    const tests = String(row.tests.length || '');
    out.push(`${pad(row.id, 8)}${pad(title, titleWidth + 2)}${pad(tests, 7)}${cell(row, lang)}`);
    if (verbose) for (const c of row.citations) out.push(`          · ${c.file}  ${describeCitation(c)}`);
    for (const t of row.tests) out.push(`          ↳ ${t.file} › ${t.title}`);
  }
  await emit(process.stdout, lines(out));
  await emit(
    process.stderr,
    lines([...report.warnings.map((w) => `warning: ${w}`), ...report.problems.map((p) => `✗ ${p}`)]),
  );
  await emit(process.stdout, lines([summaryLine(report)]));
}

const lines = (list: readonly string[]): string => list.map((l) => `${l}\n`).join('');

/**
 * Write `text` and resolve once it has been handed to the OS: the CLI exits right after the
 * command returns, and a large report on a pipe would otherwise be cut short.
 */
function emit(stream: NodeJS.WriteStream, text: string): Promise<void> {
  if (!text) return Promise.resolve();
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}

function cell(row: ClauseCoverage, lang: ClauseLanguage): string {
  const uses = row.definitions.map((u) => {
    const parts = [
      u.procedureLevel ? 'procedure' : '',
      count(u.states, 'state'),
      count(u.transitions, 'transition'),
      count(u.invariants, 'invariant'),
    ].filter(Boolean);
    return `${u.procedure}: ${parts.join(', ')}`;
  });
  if (row.subClauses.length) uses.push(`via ${row.subClauses.join(', ')}`);
  if (row.status === 'explained')
    uses.push(row.note ? `note: ${truncate(row.note[lang] ?? '', 70)}` : 'explained clause by clause below');
  if (row.status === 'uncovered') uses.push('✗ not cited');
  return uses.join('; ');
}

/** `§4: 27/27 clauses covered; §3: 15/19 covered + 4 explained; …; tests tag 9/50 clauses`. */
export function summaryLine(report: CoverageReport): string {
  const parts = report.sections.map((s, i) => {
    const explained = s.explained ? ` + ${s.explained} explained` : '';
    const uncovered = s.uncovered.length ? ` (uncovered: ${s.uncovered.join(', ')})` : '';
    return `§${s.section}: ${s.cited}/${s.total} ${i === 0 ? 'clauses ' : ''}covered${explained}${uncovered}`;
  });
  const tested = report.sections.reduce((n, s) => n + s.tested, 0);
  const total = report.sections.reduce((n, s) => n + s.total, 0);
  return `${parts.join('; ')}; tests tag ${tested}/${total} clauses`;
}

const count = (n: number, noun: string): string => (n ? `${n} ${noun}${n === 1 ? '' : 's'}` : '');

/** Columns in a terminal: CJK and full-width characters take two. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s)
    w +=
      /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(
        ch,
      )
        ? 2
        : 1;
  return w;
}

function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(1, width - displayWidth(s)));
}

function truncate(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  let out = '';
  for (const ch of s) {
    if (displayWidth(out + ch) > width - 1) break;
    out += ch;
  }
  return `${out}…`;
}
