/**
 * Source positions: maps a JSON pointer into a loaded definition back to the line and column of
 * the YAML text it came from. Every stage that reports a problem (schema validation, semantic
 * checks, the verifier) goes through this one module.
 *
 * Pointers follow the IR's canonical form, which may be slightly longer than the document: a
 * single transition written as a mapping is addressed as `/on/GO/0`, a single role written as a
 * string as `/roles/0`. An index `0` into something that is not a list therefore stays on that
 * node, so canonical pointers find the shorthand's position too.
 */
import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node, Pair, Scalar } from 'yaml';

/** A 1-based line and column. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** Positions of the nodes of one loaded document. */
export interface PositionIndex {
  /** Where the value at `pointer` starts; the nearest existing ancestor's when the document ends earlier. */
  value(pointer: string): SourcePosition;
  /** Where the key naming the member at `pointer` starts; the value's position when it has no key. */
  key(pointer: string): SourcePosition;
  /**
   * Where character `offset` of the string at `pointer` sits in the source, when the string is
   * written one to one (plain, quoted without escapes, or a `|` block); else the value's start.
   */
  inString(pointer: string, offset: number): SourcePosition;
}

/** Positions for an IR that has no source text (e.g. read back from the records store): all 1:1. */
export const NO_POSITIONS: PositionIndex = {
  value: () => ({ line: 1, column: 1 }),
  key: () => ({ line: 1, column: 1 }),
  inString: () => ({ line: 1, column: 1 }),
};

/** Split a JSON pointer (RFC 6901) into unescaped segments; `''` is the document itself. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Append segments to a JSON pointer, escaping `~` and `/`. */
export function joinPointer(base: string, ...segments: Array<string | number>): string {
  return base + segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

type Doc = Document.Parsed | Document;

interface Located {
  node: Node | null;
  /** The pair that holds `node` as its value, when the last step went through a mapping. */
  pair?: Pair;
  /** True when every segment of the pointer was found. */
  exact: boolean;
}

/** Build the position index of a parsed document. `source` is the text it was parsed from. */
export function indexPositions(doc: Doc, lineCounter: LineCounter, source: string): PositionIndex {
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(Math.max(0, Math.min(offset, source.length)));
    return { line, column: col };
  };
  const nodeStart = (node: Node | null | undefined): SourcePosition =>
    node?.range ? at(node.range[0]) : { line: 1, column: 1 };

  const value = (pointer: string): SourcePosition => {
    const found = locate(doc, pointer);
    if (found.node) return nodeStart(found.node);
    return found.pair && isNodeLike(found.pair.key) ? nodeStart(found.pair.key) : { line: 1, column: 1 };
  };
  const key = (pointer: string): SourcePosition => {
    const found = locate(doc, pointer);
    if (found.exact && found.pair && isNodeLike(found.pair.key)) return nodeStart(found.pair.key);
    return value(pointer);
  };
  const inString = (pointer: string, offset: number): SourcePosition => {
    const found = locate(doc, pointer);
    if (!found.exact || !isScalar(found.node) || typeof found.node.value !== 'string') return value(pointer);
    const mapped = stringOffset(found.node, source, offset);
    return mapped === undefined ? value(pointer) : at(mapped);
  };
  return { value, key, inString };
}

/** The JSON pointer of the innermost node containing `offset` (for YAML errors, which only know offsets). */
export function pointerAtOffset(doc: Doc, offset: number): string {
  let pointer = '';
  let node: unknown = doc.contents;
  for (;;) {
    const next = childContaining(node, offset);
    if (!next) return pointer;
    pointer = joinPointer(pointer, next.segment);
    node = next.node;
  }
}

function childContaining(node: unknown, offset: number): { segment: string; node: unknown } | undefined {
  const contains = (n: unknown): boolean =>
    isNodeLike(n) && !!n.range && n.range[0] <= offset && offset <= n.range[2];
  if (isMap(node)) {
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (k !== undefined && (contains(pair.key) || contains(pair.value)))
        return { segment: k, node: pair.value };
    }
  } else if (isSeq(node)) {
    const index = node.items.findIndex(contains);
    if (index >= 0) return { segment: String(index), node: node.items[index] };
  }
  return undefined;
}

function locate(doc: Doc, pointer: string): Located {
  let node: Node | null = resolve(doc, doc.contents as Node | null);
  let pair: Pair | undefined;
  for (const segment of parsePointer(pointer)) {
    if (isMap(node)) {
      const found = [...node.items].reverse().find((p) => isScalar(p.key) && String(p.key.value) === segment);
      if (found) {
        pair = found;
        node = resolve(doc, (found.value as Node | null) ?? null);
        if (!node) return { node: null, pair, exact: false };
        continue;
      }
      if (segment === '0') continue;
      return { node, pair, exact: false };
    }
    if (isSeq(node)) {
      const item = /^\d+$/.test(segment) ? node.items[Number(segment)] : undefined;
      if (!isNodeLike(item)) return { node, pair, exact: false };
      node = resolve(doc, item);
      pair = undefined;
      continue;
    }
    if (segment === '0' && node) continue;
    return { node, pair, exact: false };
  }
  return { node, ...(pair ? { pair } : {}), exact: true };
}

function resolve(doc: Doc, node: Node | null): Node | null {
  if (isAlias(node)) return (node.resolve(doc as Document) as Node | undefined) ?? node;
  return node;
}

function isNodeLike(value: unknown): value is Node {
  return !!value && typeof value === 'object' && !isPair(value) && 'range' in value;
}

/** Source offset of character `offset` of a string scalar, when its text maps one to one. */
function stringOffset(node: Scalar, source: string, offset: number): number | undefined {
  const text = node.value as string;
  const range = node.range;
  if (!range || offset < 0 || offset > text.length) return undefined;
  switch (node.type) {
    case 'PLAIN':
      return source.slice(range[0], range[1]) === text ? range[0] + offset : undefined;
    case 'QUOTE_SINGLE':
    case 'QUOTE_DOUBLE':
      return source.slice(range[0] + 1, range[1] - 1) === text ? range[0] + 1 + offset : undefined;
    case 'BLOCK_LITERAL':
      return blockLiteralOffset(text, source, range[0], range[1], offset);
    default:
      return undefined;
  }
}

/** Offset inside a `|` block: the value's k-th line is the block's k-th line minus its indentation. */
function blockLiteralOffset(
  text: string,
  source: string,
  start: number,
  end: number,
  offset: number,
): number | undefined {
  const bodyStart = source.indexOf('\n', start) + 1;
  if (bodyStart <= 0 || bodyStart > end) return undefined;
  const sourceLines = source.slice(bodyStart, end).split('\n');
  const indent = /^ */.exec(sourceLines.find((l) => l.trim() !== '') ?? '')?.[0].length ?? 0;
  const before = text.slice(0, offset).split('\n');
  const lineIndex = before.length - 1;
  const column = before[lineIndex]?.length ?? 0;
  const valueLine = text.split('\n')[lineIndex] ?? '';
  const sourceLine = sourceLines[lineIndex];
  if (sourceLine === undefined || sourceLine.slice(indent) !== valueLine) return undefined;
  let lineStart = bodyStart;
  for (let i = 0; i < lineIndex; i++) lineStart += (sourceLines[i]?.length ?? 0) + 1;
  return lineStart + indent + column;
}
