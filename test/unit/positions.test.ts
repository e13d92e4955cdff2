import { LineCounter, parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  indexPositions,
  joinPointer,
  parsePointer,
  pointerAtOffset,
} from '../../workflows/core/positions.ts';

const TEXT = [
  'a: 1', //                      line 1
  'on:', //                       line 2
  '  GO: { target: b }', //       line 3
  '  STOP:', //                   line 4
  '    - roles: staff', //        line 5
  "      guard: 'x == 1'", //     line 6
  '      note: |', //             line 7
  '        first', //             line 8
  '        second line', //       line 9
  'k/e~y: 2', //                  line 10
].join('\n');

function index() {
  const lineCounter = new LineCounter();
  const doc = parseDocument(TEXT, { lineCounter });
  return { doc, positions: indexPositions(doc, lineCounter, TEXT) };
}

describe('positions', () => {
  it('finds values and keys', () => {
    const { positions } = index();
    expect(positions.value('/a')).toEqual({ line: 1, column: 4 });
    expect(positions.key('/a')).toEqual({ line: 1, column: 1 });
    expect(positions.value('/on/GO/target')).toEqual({ line: 3, column: 17 });
    expect(positions.key('/on/GO')).toEqual({ line: 3, column: 3 });
  });

  it('reads a canonical index 0 into a shorthand as the shorthand itself', () => {
    const { positions } = index();
    expect(positions.value('/on/GO/0/target')).toEqual({ line: 3, column: 17 });
    expect(positions.key('/on/GO/0')).toEqual({ line: 3, column: 3 });
    expect(positions.value('/on/STOP/0/roles/0')).toEqual({ line: 5, column: 14 });
  });

  it('falls back to the nearest existing ancestor', () => {
    const { positions } = index();
    expect(positions.value('/on/GO/0/guard')).toEqual({ line: 3, column: 7 });
    expect(positions.value('/nothing/here')).toEqual({ line: 1, column: 1 });
  });

  it('maps offsets inside quoted and block strings', () => {
    const { positions } = index();
    expect(positions.inString('/on/STOP/0/guard', 5)).toEqual({ line: 6, column: 20 });
    expect(positions.inString('/on/STOP/0/note', 0)).toEqual({ line: 8, column: 9 });
    expect(positions.inString('/on/STOP/0/note', 13)).toEqual({ line: 9, column: 16 });
  });

  it('escapes and unescapes pointer segments', () => {
    const { positions } = index();
    const pointer = joinPointer('', 'k/e~y');
    expect(pointer).toBe('/k~1e~0y');
    expect(parsePointer(pointer)).toEqual(['k/e~y']);
    expect(positions.value(pointer)).toEqual({ line: 10, column: 8 });
  });

  it('finds the pointer of the node at an offset', () => {
    const { doc } = index();
    expect(pointerAtOffset(doc, TEXT.indexOf('b }'))).toBe('/on/GO/target');
    expect(pointerAtOffset(doc, TEXT.indexOf('staff'))).toBe('/on/STOP/0/roles');
  });
});
