/**
 * The clauses of the source procedure (`definitions/procedure/clauses.zh.txt`, authoritative, and
 * its translation `clauses.en.txt`), parsed into data the UI shows beside each task and the
 * coverage report walks.
 *
 * The texts are plain lines:
 * - a numbered line `4.2.3 text…` (section `4 工作程序`, subsection `4.1 …`, clause `4.1.1 …`) opens
 *   the clause with that id; the number may end in a dot and be followed by any (also full-width)
 *   space;
 * - a list item `(1) text` or `（1）text` opens the clause `<id of the last numbered line>(<n>)`, e.g.
 *   the record `5.2(1)` or the scope item `2(3)`;
 * - any other non-blank line continues the clause before it (kept, joined with a newline).
 *
 * Pure: no I/O; the texts are passed in.
 */

/** One clause (or heading) of the source procedure. */
export interface Clause {
  /** `4.2.3`, `4.1`, `4`, or a list item such as `5.2(1)`. */
  id: string;
  /** The top-level section, e.g. `4`. */
  section: string;
  /** Authoritative text (without the number). */
  zh: string;
  /** Our translation (without the number). */
  en: string;
  /** The enclosing clause's id (`4.2` for `4.2.3`); absent for a section. */
  parent?: string;
  /** Present (true) when other clauses sit under this one: it is a heading. */
  heading?: true;
}

export type ClauseLanguage = 'zh' | 'en';

/** A clause of one language's text, in document order. */
export interface ClauseLine {
  id: string;
  text: string;
}

const NUMBERED = /^(\d+(?:\.\d+)*)\.?[\s\u3000]+(\S.*)$/u;
const NUMBER_ONLY = /^(\d+(?:\.\d+)*)\.?$/u;
const LIST_ITEM = /^[(（][\s\u3000]*(\d+)[\s\u3000]*[)）][\s\u3000]*(.*)$/u;

/** The clauses of one language's text, in document order (see the module comment for the format). */
export function parseClauseText(text: string): ClauseLine[] {
  const out: ClauseLine[] = [];
  let lastNumbered: string | undefined;
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.replace(/^[\s\u3000]+|[\s\u3000]+$/gu, '');
    if (!line) continue;
    const numbered = NUMBERED.exec(line) ?? NUMBER_ONLY.exec(line);
    const item = numbered ? null : LIST_ITEM.exec(line);
    if (numbered) {
      lastNumbered = numbered[1] as string;
      out.push({ id: lastNumbered, text: numbered[2] ?? '' });
    } else if (item && lastNumbered !== undefined) {
      out.push({ id: `${lastNumbered}(${item[1] as string})`, text: item[2] ?? '' });
    } else {
      const previous = out[out.length - 1];
      if (previous) previous.text = previous.text ? `${previous.text}\n${line}` : line;
    }
  }
  return out;
}

/**
 * The clauses of the procedure, in the order of the authoritative text, each with both
 * languages. A clause missing from one text keeps an empty string there (see `clauseMismatches`).
 */
export function parseClauses(zhText: string, enText: string): Clause[] {
  const zhById = new Map(parseClauseText(zhText).map((c) => [c.id, c.text]));
  const en = new Map(parseClauseText(enText).map((c) => [c.id, c.text]));
  const ids = [...new Set([...zhById.keys(), ...en.keys()])];
  const clauses: Clause[] = ids.map((id) => {
    const parent = parentClauseId(id);
    return {
      id,
      section: sectionOf(id),
      zh: zhById.get(id) ?? '',
      en: en.get(id) ?? '',
      ...(parent !== undefined ? { parent } : {}),
    };
  });
  const parents = new Set(clauses.map((c) => c.parent));
  for (const c of clauses) if (parents.has(c.id)) c.heading = true;
  return clauses;
}

/** Ids present in only one of the two texts, per language that lacks them. */
export function clauseMismatches(clauses: readonly Clause[]): { missingZh: string[]; missingEn: string[] } {
  return {
    missingZh: clauses.filter((c) => !c.zh).map((c) => c.id),
    missingEn: clauses.filter((c) => !c.en).map((c) => c.id),
  };
}

/** `4.2` for `4.2.3`, `5.2` for `5.2(1)`, undefined for a section (`4`). */
export function parentClauseId(id: string): string | undefined {
  const item = /^(.*)\(\d+\)$/.exec(id);
  if (item) return item[1];
  const dot = id.lastIndexOf('.');
  return dot < 0 ? undefined : id.slice(0, dot);
}

/** The top-level section of a clause id: `4` for `4.2.3`, `5` for `5.2(1)`. */
export function sectionOf(id: string): string {
  return /^\d+/.exec(id)?.[0] ?? id;
}

/** True when `id` is `ancestor` or sits (at any depth) under it. */
export function isWithinClause(id: string, ancestor: string): boolean {
  for (let at: string | undefined = id; at !== undefined; at = parentClauseId(at))
    if (at === ancestor) return true;
  return false;
}

/** Document order of clause ids: `4.2` < `4.2.1` < `4.2.10` < `4.3`; `5.2` < `5.2(1)` < `5.2(2)`. */
export function compareClauseIds(a: string, b: string): number {
  const key = (id: string): number[] =>
    id
      .split(/[.()]+/)
      .filter(Boolean)
      .map(Number);
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    const d = (ka[i] as number) - (kb[i] as number);
    if (d) return d;
  }
  return ka.length - kb.length;
}

/** Clauses by id. */
export function indexClauses(clauses: readonly Clause[]): Map<string, Clause> {
  return new Map(clauses.map((c) => [c.id, c]));
}

/**
 * A one-line title: the clause's first line without its closing punctuation, cut to `max`
 * characters (with `…`). Headings give their name (`Handover of samples and technical documents`).
 */
export function clauseTitle(clause: Clause, lang: ClauseLanguage = 'en', max = 60): string {
  const first = (clause[lang] || clause.zh || clause.en).split('\n')[0] ?? '';
  const title = first.replace(/[;；:：,，.。、]+$/u, '');
  const chars = [...title];
  return chars.length <= max ? title : `${chars.slice(0, Math.max(1, max - 1)).join('')}…`;
}

/** `4.2.3 Without the client's written consent…` — the id and title of a clause by id, or the bare id. */
export function describeClause(
  id: string,
  index: ReadonlyMap<string, Clause>,
  lang: ClauseLanguage = 'en',
  max = 60,
): string {
  const clause = index.get(id);
  return clause ? `${id} ${clauseTitle(clause, lang, max)}` : id;
}
