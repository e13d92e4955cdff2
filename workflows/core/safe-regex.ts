/**
 * Regular expressions a definition brings (JSON Schema `pattern`, CEL `matches`) must not be able
 * to stall a thread: JavaScript's backtracking engine takes exponential time on `^(a+)+$` against
 * `aaaa…!`. Two defences, both pure (they run in the workflow sandbox, Node and the browser):
 *
 * - `linearRegExp`: an ajv `code.regExp` engine backed by RE2JS (a pure-JS port of RE2, linear
 *   time in the input). Every schema a definition declares is compiled with it, at check time and
 *   at run time (event data, start input). Patterns RE2 does not support (backreferences,
 *   lookaround) do not compile, so the definition is refused at check time.
 * - `regexCostProblem`: a static check for CEL `matches`, whose regex cel-js runs with the native
 *   engine: the pattern must compile under RE2 and must not repeat a group that itself repeats or
 *   alternates (`(a+)+`, `(a|aa)*`, `(\w+\s?)*`) — the shapes that backtrack catastrophically.
 */
import { RE2JS } from 're2js';

/** What ajv calls a regex engine: a function that compiles a pattern to something with `test`. */
export interface RegExpEngineLike {
  (pattern: string, flags: string): { test(s: string): boolean; toString(): string };
  code: string;
}

const compiledPatterns = new Map<string, RE2JS>();

/** Compile `pattern` with RE2 (cached); throws when RE2 does not support its syntax. */
function re2(pattern: string): RE2JS {
  let re = compiledPatterns.get(pattern);
  if (!re) {
    if (compiledPatterns.size >= 1000) compiledPatterns.clear();
    re = RE2JS.compile(pattern);
    compiledPatterns.set(pattern, re);
  }
  return re;
}

/** Linear-time `pattern` matching for ajv (`new Ajv({code: {regExp: linearRegExp}})`): a search, as JSON Schema's is. */
export const linearRegExp: RegExpEngineLike = Object.assign(
  (pattern: string): { test(s: string): boolean; toString(): string } => {
    let re: RE2JS;
    try {
      re = re2(pattern);
    } catch (err) {
      throw new Error(
        `pattern ${JSON.stringify(pattern)} is not supported by the linear-time regex engine (RE2: no backreferences or lookaround): ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    // ajv keys compiled patterns by toString(): it must differ per pattern.
    return { test: (s: string) => re.matcher(s).find(), toString: () => `re2:${pattern}` };
  },
  { code: 're2' },
);

/** Whether `s` contains a match of `pattern`, in linear time (throws when RE2 cannot compile it). */
export function linearMatch(pattern: string, s: string): boolean {
  return re2(pattern).matcher(s).find();
}

/**
 * Why `pattern` may take more than linear time in a backtracking engine, or `undefined` when it
 * cannot: it must compile under RE2, and no repeated group may contain a repetition or an
 * alternation.
 */
export function regexCostProblem(pattern: string): string | undefined {
  try {
    re2(pattern);
  } catch (err) {
    return `not supported by the linear-time regex engine (no backreferences or lookaround): ${err instanceof Error ? err.message : String(err)}`;
  }
  return nestedRepetition(pattern)
    ? 'a repeated group contains a repetition or an alternation (e.g. `(a+)+`), which can take exponential time'
    : undefined;
}

/** Does a group followed by an unbounded or counted quantifier contain a quantifier or `|`? */
function nestedRepetition(pattern: string): boolean {
  // For each open group: does it contain a repetition or an alternation?
  const stack: boolean[] = [];
  let lastGroupRisky = false;
  let afterGroup = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const repeatsMany = repetition(pattern, i);
    if (repeatsMany) {
      if (afterGroup && lastGroupRisky) return true;
      if (stack.length) stack[stack.length - 1] = true;
    }
    afterGroup = false;
    if (c === '\\') {
      i++;
    } else if (c === '[') {
      i = classEnd(pattern, i);
    } else if (c === '(') {
      stack.push(false);
    } else if (c === '|') {
      if (stack.length) stack[stack.length - 1] = true;
    } else if (c === ')') {
      lastGroupRisky = stack.pop() ?? false;
      if (lastGroupRisky && stack.length) stack[stack.length - 1] = true;
      afterGroup = true;
    }
  }
  return false;
}

/** Is the character at `i` a quantifier that allows more than one repetition (`*`, `+`, `{n,}`, `{n,m}` with m > 1)? */
function repetition(pattern: string, i: number): boolean {
  const c = pattern[i];
  if (c === '*' || c === '+') return true;
  if (c !== '{') return false;
  const m = /^\{(\d*)(,(\d*))?\}/.exec(pattern.slice(i, i + 24));
  if (!m) return false;
  if (m[2] === undefined) return Number(m[1]) > 1;
  return m[3] === '' || Number(m[3]) > 1;
}

/** Index of the `]` closing the character class opened at `start`. */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i;
  }
  return pattern.length;
}
