/** argon2id password hashes (PHC strings) and the password policy. */
import { describe, expect, it } from 'vitest';
import {
  ARGON2_PARAMS,
  checkPasswordPolicy,
  hashPassword,
  verifyPassword,
} from '../../worker/records/passwords.ts';

/** Cheap parameters where the cost is not what is tested. */
const FAST = { m: 64, t: 1, p: 1 };

describe('passwords', () => {
  it('hashes with OWASP argon2id parameters by default and verifies', async () => {
    expect(ARGON2_PARAMS).toEqual({ m: 19456, t: 2, p: 1 });
    const phc = await hashPassword('correct horse battery');
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword('correct horse battery', phc)).toBe(true);
    expect(await verifyPassword('correct horse batterY', phc)).toBe(false);
  });

  it('uses a fresh salt each time and reads the parameters back from the stored string', async () => {
    const a = await hashPassword('same password here', FAST);
    const b = await hashPassword('same password here', FAST);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^\$argon2id\$v=19\$m=64,t=1,p=1\$/);
    expect(await verifyPassword('same password here', a)).toBe(true);
    expect(await verifyPassword('same password here', b)).toBe(true);
  });

  it('normalises to NFKC, so the same password typed either way matches', async () => {
    const phc = await hashPassword('caf\u00e9 au lait 2024', FAST);
    expect(await verifyPassword('cafe\u0301 au lait 2024', phc)).toBe(true);
  });

  it('treats a malformed or outrageous stored hash as no match', async () => {
    expect(await verifyPassword('anything at all', 'plaintext')).toBe(false);
    expect(
      await verifyPassword(
        'anything at all',
        '$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA',
      ),
    ).toBe(false);
  });

  it('requires at least 12 characters (counted as characters, not bytes)', () => {
    expect(() => checkPasswordPolicy('elevenchars')).toThrow(/too short: 11 character\(s\), at least 12/);
    expect(() => checkPasswordPolicy('twelve chars')).not.toThrow();
    expect(() => checkPasswordPolicy('密码密码密码密码密码密')).toThrow(/too short/);
    expect(() => checkPasswordPolicy('x'.repeat(2000))).toThrow(/too long/);
  });
});
