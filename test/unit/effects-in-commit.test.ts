/**
 * The workflow decides from the action registry (`inCommitTransaction`) that a commit may be written
 * in the activation, where nothing is returned and nothing outside the records store can run
 * (`workflows/audit-commit.ts`); the worker's executors (`EFFECT_EXECUTORS`) are what actually runs.
 * The two must agree: a kind flagged in-commit does nothing before the commit, and every kind that
 * does something before it (start an instance, deploy, look up a register) is not flagged.
 */
import { describe, expect, it } from 'vitest';
import { EFFECT_EXECUTORS } from '../../worker/activities/effects.ts';
import { inCommitTransaction } from '../../workflows/core/actions/index.ts';
import type { Effect } from '../../workflows/core/actions/index.ts';
import type { EffectSite } from '../../worker/activities/effects.ts';

/** A site whose every dependency throws when touched: an in-commit executor must touch none. */
const untouchable = new Proxy({} as EffectSite['deps'], {
  get(_, key) {
    throw new Error(`an in-commit effect reached deps.${String(key)}`);
  },
});

describe('effects written in the commit transaction', () => {
  it('flags exactly the kinds whose executor does nothing before the commit', async () => {
    const flagged = Object.keys(EFFECT_EXECUTORS).filter((k) => inCommitTransaction(k));
    expect(flagged.sort()).toEqual(['notify', 'record']);
    for (const kind of flagged) {
      const executor = EFFECT_EXECUTORS[kind as Effect['kind']] as {
        beforeCommit(e: Effect, s: EffectSite): Promise<unknown>;
      };
      const site = { commit: {} as EffectSite['commit'], index: 1, deps: untouchable };
      await expect(executor.beforeCommit({ kind } as Effect, site)).resolves.toBeUndefined();
    }
    for (const kind of ['start', 'deploy_definition', 'lookup'])
      expect(inCommitTransaction(kind)).toBe(false);
  });
});
