/** The metrics registry renders the Prometheus text format (0.0.4) exactly. */
import { describe, expect, it } from 'vitest';
import { formatLine } from '../../worker/log.ts';
import { restartDelayMs } from '../../worker/temporal/supervisor.ts';
import { escapeLabelValue, METRICS, Registry } from '../../worker/metrics.ts';

describe('metrics registry', () => {
  it('renders counters with HELP, TYPE and escaped label values', async () => {
    const r = new Registry();
    const c = r.counter('custodia_things_total', 'Things\nseen \\ here', ['kind']);
    c.inc({ kind: 'a"b\\c\nd' });
    c.inc({ kind: 'a"b\\c\nd' }, 2);
    c.inc({ kind: 'plain' });
    expect(await r.text()).toBe(
      [
        '# HELP custodia_things_total Things\\nseen \\\\ here',
        '# TYPE custodia_things_total counter',
        'custodia_things_total{kind="a\\"b\\\\c\\nd"} 3',
        'custodia_things_total{kind="plain"} 1',
        '',
      ].join('\n'),
    );
  });

  it('renders cumulative histogram buckets, +Inf, sum and count', async () => {
    const r = new Registry();
    const h = r.histogram('custodia_wait_seconds', 'Waiting', ['route'], [0.1, 1]);
    h.observe({ route: '/api/x/:id' }, 0.05);
    h.observe({ route: '/api/x/:id' }, 0.5);
    h.observe({ route: '/api/x/:id' }, 3);
    expect(await r.text()).toBe(
      [
        '# HELP custodia_wait_seconds Waiting',
        '# TYPE custodia_wait_seconds histogram',
        'custodia_wait_seconds_bucket{route="/api/x/:id",le="0.1"} 1',
        'custodia_wait_seconds_bucket{route="/api/x/:id",le="1"} 2',
        'custodia_wait_seconds_bucket{route="/api/x/:id",le="+Inf"} 3',
        'custodia_wait_seconds_sum{route="/api/x/:id"} 3.55',
        'custodia_wait_seconds_count{route="/api/x/:id"} 3',
        '',
      ].join('\n'),
    );
  });

  it('runs collectors before rendering and survives a failing one', async () => {
    const r = new Registry();
    const g = r.gauge('custodia_level', 'Level', ['procedure']);
    r.collect(async () => g.set({ procedure: 'p' }, 7));
    r.collect(() => Promise.reject(new Error('down')));
    const errors: unknown[] = [];
    expect(await r.text((e) => errors.push(e))).toContain('custodia_level{procedure="p"} 7');
    expect(errors).toHaveLength(1);
  });

  it('refuses bad names, wrong labels, decreasing counters and duplicate metrics', () => {
    const r = new Registry();
    expect(() => r.counter('custodia-bad', 'x')).toThrow(/not a Prometheus name/);
    expect(() => r.histogram('custodia_h', 'x', ['le'], [1])).toThrow(/not allowed/);
    expect(() => r.histogram('custodia_h2', 'x', [], [1, 1])).toThrow(/increasing/);
    const c = r.counter('custodia_c', 'x', ['a']);
    expect(() => c.inc({ b: '1' })).toThrow(/takes labels a/);
    expect(() => c.inc({ a: '1' }, -1)).toThrow(/only goes up/);
    expect(() => r.counter('custodia_c', 'again')).toThrow(/twice/);
    expect(escapeLabelValue('x')).toBe('x');
  });

  it("declares Custodia's own metrics, all prefixed custodia_", async () => {
    const text = await METRICS.text();
    const names = [...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'custodia_transitions_total counter',
        'custodia_refusals_total counter',
        'custodia_sla_overdue_instances gauge',
        'custodia_audit_append_seconds histogram',
        'custodia_audit_commit_batch_size histogram',
        'custodia_http_request_duration_seconds histogram',
      ]),
    );
    expect(names.every((n) => n.startsWith('custodia_'))).toBe(true);
  });
});

describe('log lines', () => {
  const at = new Date('2026-12-06T10:00:00.000Z');
  it('json: one object with time, level, msg and the defined fields', () => {
    const line = formatLine(
      'json',
      'info',
      'request',
      { requestId: 'r1', workflowId: 'w1', gone: undefined },
      at,
    );
    expect(JSON.parse(line!)).toEqual({
      time: '2026-12-06T10:00:00.000Z',
      level: 'info',
      msg: 'request',
      requestId: 'r1',
      workflowId: 'w1',
    });
  });
  it('text: the plain custodia line, debug dropped', () => {
    expect(formatLine('text', 'warn', 'dev server exited', { restartInMs: 1000 }, at)).toBe(
      'custodia: dev server exited restartInMs=1000',
    );
    expect(formatLine('text', 'debug', 'request', {}, at)).toBeUndefined();
  });
});

describe('supervision back-off', () => {
  it('doubles from 1 s and stops at 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 12].map((n) => restartDelayMs(n))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });
});
