/**
 * The languages of a definition: `languages:` (default `[zh, en]`) says which languages its texts
 * are written in, and every text (`{ zh, en }` objects: titles, tasks, messages, descriptions)
 * must have exactly those — an English-only definition declares `languages: [en]` and writes
 * `{ en: … }` texts. Checked over the loaded document, so texts anywhere (including sections other
 * modules add) are found: a text is a non-empty mapping whose keys are all language codes and whose
 * values are all strings, outside the parts of a definition that are data (JSON Schemas, defaults,
 * start input).
 */
import type { Diagnostic } from './diagnostics.ts';
import type { Language, Text } from './ir.ts';
import { joinPointer } from './positions.ts';
import type { PositionIndex } from './positions.ts';

/** The languages the engine knows, in the order texts list them. */
export const LANGUAGES: readonly Language[] = ['zh', 'en'];

/** What a definition declares when it says nothing: Chinese (authoritative) and English. */
export const DEFAULT_LANGUAGES: readonly Language[] = ['zh', 'en'];

/** Members whose values are data or expressions by field name, not texts of the definition. */
const DATA_MEMBERS = new Set(['data', 'schema', 'default', 'input', 'assign', 'fields']);

const isLanguage = (k: string): k is Language => (LANGUAGES as readonly string[]).includes(k);

/** The declared languages of a loaded document (or IR), the default when it declares none. */
export function declaredLanguages(doc: unknown): readonly Language[] {
  const declared = (doc as { languages?: unknown } | null)?.languages;
  if (!Array.isArray(declared)) return DEFAULT_LANGUAGES;
  const out = declared.filter((l): l is Language => typeof l === 'string' && isLanguage(l));
  return out.length ? out : DEFAULT_LANGUAGES;
}

/** Every text of the document with its pointer. */
function* texts(value: unknown, pointer: string): Generator<[string, Record<string, unknown>]> {
  if (!value || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* texts(value[i], joinPointer(pointer, i));
    return;
  }
  const entries = Object.entries(value);
  if (entries.length && entries.every(([k, v]) => isLanguage(k) && typeof v === 'string')) {
    yield [pointer, value as Record<string, unknown>];
    return;
  }
  for (const [k, v] of entries) if (!DATA_MEMBERS.has(k)) yield* texts(v, joinPointer(pointer, k));
}

const NAMES: Record<Language, string> = { zh: 'Chinese (zh)', en: 'English (en)' };

/** A text missing a declared language, or carrying one not declared: positioned diagnostics. */
export function languageDiagnostics(doc: unknown, positions: PositionIndex, file: string): Diagnostic[] {
  const languages = declaredLanguages(doc);
  const declared = languages.join(', ');
  const out: Diagnostic[] = [];
  for (const [pointer, text] of texts(doc, '')) {
    for (const lang of languages) {
      if (typeof text[lang] === 'string' && text[lang] !== '') continue;
      const at = positions.value(pointer);
      out.push({
        code: 'PROC_MISSING_TRANSLATION',
        severity: 'error',
        message: `this text has no ${NAMES[lang]} version; the definition's languages are ${declared}`,
        file,
        line: at.line,
        column: at.column,
        pointer,
        hint: `write the text in every declared language, or declare the languages it is written in (e.g. "languages: [en]")`,
      });
    }
    for (const lang of Object.keys(text)) {
      if (languages.includes(lang as Language)) continue;
      const at = positions.key(joinPointer(pointer, lang));
      out.push({
        code: 'PROC_UNDECLARED_LANGUAGE',
        severity: 'error',
        message: `${NAMES[lang as Language] ?? lang} is not one of the definition's languages (${declared})`,
        file,
        line: at.line,
        column: at.column,
        pointer: joinPointer(pointer, lang),
        hint: `add it to "languages", or remove this version`,
      });
    }
  }
  return out;
}

/**
 * A text in `lang`, else in the first of `languages` that it has (a definition's first declared
 * language is its fallback), else in any language it has; '' for none.
 */
export function textIn(
  t: Text | undefined,
  lang: Language,
  languages: readonly Language[] = DEFAULT_LANGUAGES,
): string {
  if (!t) return '';
  return t[lang] ?? languages.map((l) => t[l]).find((s) => s !== undefined) ?? t.zh ?? t.en ?? '';
}
