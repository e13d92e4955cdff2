/**
 * The API's security building blocks without Temporal: sign-in budgets, trusted proxies, the
 * password hashing pool, the JSON nesting check, OIDC's returnTo, and list-filter quoting.
 */
import type { IncomingMessage } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { createHashPool, HashPoolBusy } from '../../worker/api/hash-pool.ts';
import { nestingExceeds } from '../../worker/api/http.ts';
import {
  clientAddress,
  isSecureRequest,
  trustedProxiesSetting,
  trustedProxyList,
} from '../../worker/api/network.ts';
import { safeReturnTo } from '../../worker/api/oidc.ts';
import { LIST_KEYWORD } from '../../worker/api/patterns.ts';
import { isRefusal, SignInLimits, type SignInAttempt } from '../../worker/api/sign-in-limits.ts';
import { hashPassword } from '../../worker/records/passwords.ts';
import { InvalidQueryValue, quoteListValue } from '../../worker/visibility.ts';

const budget = (max: number) => ({ max, windowMs: 60_000 });

function admitted(x: ReturnType<SignInLimits['admit']>): SignInAttempt {
  if (isRefusal(x)) throw new Error(`refused: ${x.scope}`);
  return x;
}

describe('sign-in budgets', () => {
  const limits = () =>
    new SignInLimits({ userAddress: budget(3), address: budget(5), user: budget(6), global: budget(9) });

  it('counts an attempt before it is checked, and checks one at a time per user and address', () => {
    const l = limits();
    const a = admitted(l.admit('Rita', '10.0.0.1', 1000));
    expect(l.admit('rita ', '10.0.0.1', 1000)).toEqual({ scope: 'userAddress', retryAfter: 1 });
    const b = admitted(l.admit('rita', '10.0.0.2', 1000));
    a.failed();
    admitted(l.admit('rita', '10.0.0.1', 1000)).failed();
    const c = admitted(l.admit('rita', '10.0.0.1', 1000));
    // Three failures (two settled, one in flight): the budget is spent for this user and address.
    c.failed();
    expect(l.admit('rita', '10.0.0.1', 1000)).toMatchObject({ scope: 'userAddress' });
    b.succeeded();
    expect(isRefusal(l.admit('rita', '10.0.0.2', 1000))).toBe(false);
  });

  it('refuses spraying from one address, one user from many addresses, and too many in all', () => {
    const l = new SignInLimits({
      userAddress: budget(3),
      address: budget(5),
      user: budget(6),
      global: budget(12),
    });
    for (let i = 0; i < 5; i++) admitted(l.admit(`u${i}`, '10.0.0.1', 0)).failed();
    expect(l.admit('u9', '10.0.0.1', 0)).toMatchObject({ scope: 'address' });
    for (let i = 0; i < 6; i++) admitted(l.admit('victim', `10.1.0.${i}`, 0)).failed();
    expect(l.admit('victim', '10.1.0.99', 0)).toMatchObject({ scope: 'user' });
    admitted(l.admit('other', '10.3.0.1', 0)).failed();
    // 12 failures in all: everyone waits, until the window has passed.
    const g = l.admit('someone', '10.2.0.1', 0);
    expect(g).toMatchObject({ scope: 'global', retryAfter: 60 });
    expect(isRefusal(l.admit('someone', '10.2.0.1', 60_001))).toBe(false);
  });

  it('forgives earlier failures on success, but not when the attempt was withdrawn', () => {
    const l = limits();
    admitted(l.admit('a', 'x', 0)).failed();
    admitted(l.admit('a', 'x', 0)).withdrawn();
    admitted(l.admit('a', 'x', 0)).failed();
    admitted(l.admit('a', 'x', 0)).failed();
    expect(l.admit('a', 'x', 0)).toMatchObject({ scope: 'userAddress' });
    const m = limits();
    admitted(m.admit('a', 'x', 0)).failed();
    admitted(m.admit('a', 'x', 0)).failed();
    admitted(m.admit('a', 'x', 0)).succeeded();
    for (let i = 0; i < 3; i++) admitted(m.admit('a', 'x', 0)).failed();
  });
});

function request(peer: string, headers: Record<string, string> = {}, encrypted = false): IncomingMessage {
  return { socket: { remoteAddress: peer, encrypted }, headers } as unknown as IncomingMessage;
}

describe('trusted proxies', () => {
  const proxies = trustedProxyList(['10.0.0.0/8', '192.0.2.1', '2001:db8::/32']);

  it('reads CUSTODIA_TRUSTED_PROXIES (default none) and refuses what is not an address or CIDR', () => {
    expect(trustedProxiesSetting({}).entries).toEqual([]);
    expect(trustedProxiesSetting({ CUSTODIA_TRUSTED_PROXIES: ' 10.0.0.1, ::1 ' }).entries).toEqual([
      '10.0.0.1',
      '::1',
    ]);
    for (const bad of ['proxy.local', '10.0.0.0/33', '10.0.0.1/8/1', '::1/129', '10.0.0.0/x'])
      expect(() => trustedProxyList([bad]), bad).toThrow(/not an IP address or CIDR/);
  });

  it('believes X-Forwarded-For only from a trusted peer, taking the right-most untrusted hop', () => {
    const xff = { 'x-forwarded-for': '6.6.6.6, 203.0.113.5, 10.1.2.3' };
    expect(clientAddress(request('198.51.100.9', xff), proxies)).toBe('198.51.100.9');
    expect(clientAddress(request('::ffff:10.0.0.7', xff), proxies)).toBe('203.0.113.5');
    expect(clientAddress(request('192.0.2.1', { 'x-forwarded-for': 'garbage' }), proxies)).toBe('192.0.2.1');
    expect(clientAddress(request('2001:db8::1', { 'x-forwarded-for': '2001:db9::5' }), proxies)).toBe(
      '2001:db9::5',
    );
    expect(clientAddress(request('10.0.0.7', {}), trustedProxyList([]))).toBe('10.0.0.7');
  });

  it('takes TLS from the socket, or from X-Forwarded-Proto of a trusted proxy', () => {
    const https = { 'x-forwarded-proto': 'https' };
    expect(isSecureRequest(request('198.51.100.9', {}, true), proxies)).toBe(true);
    expect(isSecureRequest(request('198.51.100.9', https), proxies)).toBe(false);
    expect(isSecureRequest(request('10.0.0.7', https), proxies)).toBe(true);
    expect(isSecureRequest(request('10.0.0.7', { 'x-forwarded-proto': 'https, http' }), proxies)).toBe(false);
  });
});

describe('password hashing pool', () => {
  const pool = createHashPool({ threads: 1, maxQueue: 1 });
  afterAll(() => pool.close());

  it('verifies with passwords.ts on a worker thread and refuses at once when full', async () => {
    const stored = await hashPassword('correct horse battery');
    const results = await Promise.allSettled([
      pool.verify('correct horse battery', stored),
      pool.verify('wrong horse battery', stored),
      pool.burn('anything at all'),
    ]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: true });
    expect(results[1]).toEqual({ status: 'fulfilled', value: false });
    expect(results[2]).toMatchObject({ status: 'rejected', reason: expect.any(HashPoolBusy) });
    expect(await pool.verify('x', 'not a PHC string')).toBe(false);
    expect(pool.load()).toEqual({ running: 0, waiting: 0 });
  }, 30_000);
});

describe('bad input', () => {
  it('finds JSON nested too deep before parsing (strings do not count)', () => {
    expect(nestingExceeds('{"a":[[1]]}', 3)).toBe(false);
    expect(nestingExceeds('{"a":[[[1]]]}', 3)).toBe(true);
    expect(nestingExceeds(JSON.stringify({ a: '[[[[[[', b: '\\"[[[[' }), 2)).toBe(false);
    expect(nestingExceeds('['.repeat(50_000) + ']'.repeat(50_000), 64)).toBe(true);
  });

  it('keeps a non-Latin-1 returnTo as a valid Location header', () => {
    expect(safeReturnTo('/收件箱?q=é')).toBe('/%E6%94%B6%E4%BB%B6%E7%AE%B1?q=%C3%A9');
    expect(safeReturnTo('/a b')).toBe('/a%20b');
    expect(safeReturnTo('/x\uD800')).toBe('/');
    expect(safeReturnTo('/a\u007fb')).toBe('/');
  });

  it('refuses double quotes in KeywordList filters (SQLite full-text syntax)', () => {
    const re = new RegExp(LIST_KEYWORD);
    expect(['submitted', 'checks.a', 'project_staff', '审核'].every((v) => re.test(v))).toBe(true);
    expect(['a"b', "a'b", 'a\\b', 'a\nb'].some((v) => re.test(v))).toBe(false);
    expect(quoteListValue('draft')).toBe("'draft'");
    expect(() => quoteListValue('a"b')).toThrow(InvalidQueryValue);
  });
});
