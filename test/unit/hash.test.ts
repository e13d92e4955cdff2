import { describe, expect, it } from 'vitest';
import { canonicalJson, hashProcedure } from '../../workflows/core/hash.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';
import type { ProcedureIR } from '../../workflows/core/ir.ts';

const YAML_A = `
id: tiny
version: 1.0.0
title: { zh: 小, en: Tiny }
description: { zh: 小, en: Tiny }
roles: { staff: { zh: 员工, en: Staff } }
events: { GO: { title: { zh: 走, en: Go } } }
initial: a
states:
  a: { title: { zh: 甲, en: A }, on: { GO: { target: b, roles: staff } } }
  b: { title: { zh: 乙, en: B }, type: final }
`;

/** The same procedure with every mapping's keys in another order and the shorthand spelt out. */
const YAML_B = `
states:
  a:
    on:
      GO:
        - roles: [staff]
          target: b
    title: { en: A, zh: 甲 }
  b: { type: final, title: { en: B, zh: 乙 } }
initial: a
events: { GO: { title: { en: Go, zh: 走 } } }
roles: { staff: { en: Staff, zh: 员工 } }
description: { en: Tiny, zh: 小 }
title: { en: Tiny, zh: 小 }
version: 1.0.0
id: tiny
`;

function ir(text: string): ProcedureIR {
  const result = validateProcedureText(text, 'tiny.yaml');
  if (!result.ir) throw new Error(JSON.stringify(result.diagnostics));
  return result.ir;
}

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, { z: 0, y: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,1,{"y":null,"z":0}]},"b":1}',
    );
  });

  it('drops undefined members like JSON.stringify and escapes strings', () => {
    expect(canonicalJson({ a: undefined, b: 'é"\n' })).toBe('{"b":"é\\"\\n"}');
    expect(canonicalJson([undefined])).toBe('[null]');
  });

  it('rejects what JSON cannot represent', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
    expect(() => canonicalJson(1n)).toThrow(TypeError);
  });
});

describe('hashProcedure', () => {
  it('is hex SHA-256', () => {
    expect(hashProcedure(ir(YAML_A))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is stable under key reordering (in the YAML and in the IR object)', () => {
    const a = ir(YAML_A);
    const b = ir(YAML_B);
    expect(hashProcedure(b)).toBe(hashProcedure(a));
    const reversed = JSON.parse(JSON.stringify(a), (_k, v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
    ) as ProcedureIR;
    expect(Object.keys(reversed)[0]).not.toBe(Object.keys(a)[0]);
    expect(hashProcedure(reversed)).toBe(hashProcedure(a));
  });

  it('changes when the procedure changes', () => {
    expect(hashProcedure(ir(YAML_A.replace('en: A }', 'en: Start }')))).not.toBe(hashProcedure(ir(YAML_A)));
  });
});
