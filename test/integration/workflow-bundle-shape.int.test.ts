/**
 * The workflow bundle the workers run (built by the global setup as the product builds it,
 * `workflowBundle()`): ASCII only, so V8 keeps it one byte per character, with an inline source
 * map without the sources' text — and a workflow failure's stack still names our source file and
 * line (worker/workflow-bundle-options.ts, README "Memory").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import { isOneByte } from '../../worker/workflow-bundle-options.ts';
import { sharedBundle, startHarness, type Harness } from './harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** The bundle's inline source map (the SDK requires one). */
function inlineMap(code: string): { sources: string[]; sourcesContent?: unknown[]; mappings: string } {
  const at = code.lastIndexOf('//# sourceMappingURL=data:application/json');
  expect(at).toBeGreaterThan(0);
  const b64 = code.slice(code.indexOf('base64,', at) + 'base64,'.length).trim();
  return JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as ReturnType<typeof inlineMap>;
}

describe('the workflow bundle', () => {
  it('is ASCII only and carries a source map without the sources, naming our files', () => {
    const { code } = sharedBundle();
    // eslint-disable-next-line no-control-regex -- ASCII is what is checked
    expect(/^[\u0000-\u007f]*$/.test(code)).toBe(true);
    expect(isOneByte(code)).toBe(true);
    // The Chinese texts are in it, escaped.
    expect(code).toMatch(/\\u[4-9][0-9a-f]{3}/);
    const map = inlineMap(code);
    expect(map.sourcesContent ?? []).toEqual([]);
    expect(map.sources.some((s) => s.endsWith('workflows/procedure.workflow.ts'))).toBe(true);
    // Smaller than the SDK's default (a full map with the sources' text: ~3.3 MB).
    expect(Buffer.byteLength(JSON.stringify(map))).toBeLessThan(1_000_000);
  });

  it("maps a workflow failure's stack to our source file and line", async () => {
    const def = h.definitions.get('engine_case')!;
    const handle = await h.client.workflow.start('procedure', {
      taskQueue: h.config.taskQueue,
      workflowId: `bundle-stack-${Date.now()}`,
      args: [{ ir: def.ir, hash: 'f'.repeat(64), context: { client: 'x' }, starter: { id: 'a', roles: [] } }],
    });
    const err: unknown = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause?.message).toMatch(/definition hash mismatch/);
    // The frame that threw, in the TypeScript source (not the bundle's line).
    expect(cause?.stack).toMatch(/workflows\/procedure\.workflow\.ts:\d+/);
    expect(cause?.stack).not.toMatch(/workflow-bundle-[0-9a-f]+\.js/);
  });
});
