/**
 * The workflow bundle's ASCII-only form (worker/workflow-bundle-options.ts): the same program, in
 * a string V8 keeps one byte per character.
 */
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { asciiOnly, isOneByte } from '../../worker/workflow-bundle-options.ts';

describe('asciiOnly', () => {
  it('escapes every non-ASCII character so that the program computes the same values', () => {
    const source = [
      '// 注释 — a comment',
      "const 名字 = '中文 – “quoted”';",
      'const t = `${名字}：完成 ✓ 😀`;',
      'const re = /^[一-龥]+é$/u;',
      'const cls = /[—–]/;',
      "({ 名字, t, astral: '😀'.codePointAt(0), m: re.test('甲乙é'), n: re.test('甲x'), dash: cls.test('a–b'), key: { 键: 1 }.键 })",
    ].join('\n');
    const escaped = asciiOnly(source);
    expect(escaped.split('').every((c) => c.charCodeAt(0) < 0x80)).toBe(true);
    expect(escaped).toContain('\\u4e2d\\u6587');
    expect(vm.runInNewContext(escaped)).toEqual(vm.runInNewContext(source));
    expect(vm.runInNewContext(escaped)).toMatchObject({
      m: true,
      n: false,
      dash: true,
      key: 1,
      astral: 0x1f600,
    });
  });

  it('leaves ASCII text as it is', () => {
    const ascii = 'const a = "plain"; // nothing to do\n';
    expect(asciiOnly(ascii)).toBe(ascii);
  });

  it('refuses where an escape would change the meaning: after a backslash, in String.raw', () => {
    expect(() => asciiOnly("const s = '\\é';")).toThrow(/backslash before a non-ASCII character/);
    expect(() => asciiOnly('const s = String.raw`é`;')).toThrow(/String\.raw/);
  });
});

describe('isOneByte', () => {
  it('is true up to U+00FF, false above', () => {
    expect(isOneByte('abc é ÿ')).toBe(true);
    expect(isOneByte('a — b')).toBe(false);
    expect(isOneByte(asciiOnly('a — b 中'))).toBe(true);
  });
});
