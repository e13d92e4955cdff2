/**
 * Where the interpreter's own time goes per update, outside Temporal: the pure engine calls the
 * `procedure` workflow makes for one `event` update, timed one by one on bench-review.yaml.
 *
 *   npx tsx test/bench/engine-profile.ts [--steps 20000]
 *
 * Per update the workflow runs: the validator (`explainRejection`), then the handler:
 * `applyEvent` (which runs `explainRejection` again, then `step`: `resolveState` +
 * `pureTransition`, XState's `transition` with the machine's inert actor scope made once), `syncSearchAttributes` (`describeInstance`), `leafPaths` and `availableTo` for
 * the result. For comparison, the hand-written baseline's per-update work is replayed here too
 * (the same ajv schema check twice, table look-ups, the guard in TypeScript).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { transition } from 'xstate';
import { loadDeployedDefinitions } from '../../worker/process.ts';
import { compileProcedure } from '../../workflows/core/compile.ts';
import {
  applyEvent,
  availableTo,
  describeInstance,
  explainRejection,
  leafPaths,
  pureTransition,
  startInstance,
  type InstanceState,
} from '../../workflows/core/runtime.ts';
import { evaluateGuard } from '../../workflows/core/expressions.ts';
import { scopeOf } from '../../workflows/core/compile.ts';
import type { Actor, EventInput } from '../../workflows/core/ir.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { steps: { type: 'string', default: '20000' } } });
const STEPS = Number(values.steps);

const def = loadDeployedDefinitions([path.join(HERE, 'bench-review.yaml')]).get('bench_review')!;
const STAFF: Actor = { id: 'alice', roles: ['project_staff'] };
const MANAGER: Actor = { id: 'bob', roles: ['quality_manager'] };
const events: EventInput[] = [
  { type: 'SUBMIT', data: { summary: 'summary, version 1' }, actor: STAFF },
  { type: 'RETURN', data: { comment: 'please revise' }, actor: MANAGER },
];

const timeIt = (label: string, n: number, fn: (i: number) => void): number => {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(i); // warm up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const us = ((performance.now() - t0) * 1000) / n;
  console.log(`${us.toFixed(1).padStart(9)} µs  ${label}`);
  return us;
};

console.log(
  `Pure engine calls on bench_review, ${STEPS} iterations each (Node ${process.version}, outside the sandbox)\n`,
);

const t0 = performance.now();
const proc = compileProcedure(def.ir);
console.log(`compileProcedure (first, cold): ${(performance.now() - t0).toFixed(1)} ms`);
timeIt('compileProcedure (per instance start: ajv + XState setup)', 200, () => compileProcedure(def.ir));
const schemaList = [
  ...Object.values(def.ir.events).map((e) => e.data ?? { type: 'object', maxProperties: 0 }),
  { type: 'object', properties: {}, additionalProperties: false }, // stands in for the context schema
];
timeIt('  of which: new Ajv2020 + compile the 4 schemas (meta-schema compiled per Ajv instance)', 200, () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  for (const sch of schemaList) ajv.compile(sch);
});
timeIt('  the same with validateSchema: false (definitions are validated at load)', 200, () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false, validateSchema: false });
  for (const sch of schemaList) ajv.compile(sch);
});

// States to run the calls against: drafting (SUBMIT next) and reviewing (RETURN next).
const drafting = startInstance(proc, { client: 'ACME' }, { id: 'starter', roles: [] }, 0).state;
const reviewing = applyEvent(proc, drafting, events[0]!, 1).state;
const pairs: [InstanceState, EventInput][] = [
  [drafting, events[0]!],
  [reviewing, events[1]!],
];
const at = (i: number): [InstanceState, EventInput] => pairs[i % 2]!;

console.log('\nInterpreter, per update:');
const parts: Record<string, number> = {};
parts.validator = timeIt('validator: explainRejection', STEPS, (i) => {
  const [s, e] = at(i);
  if (explainRejection(proc, s, e, 2)) throw new Error('rejected');
});
parts.apply = timeIt(
  'handler: applyEvent (explainRejection again + resolveState + transition)',
  STEPS,
  (i) => {
    const [s, e] = at(i);
    applyEvent(proc, s, e, 2);
  },
);
parts.describe = timeIt('handler: describeInstance (search attributes)', STEPS, (i) => {
  describeInstance(proc, at(i)[0], 2);
});
parts.result = timeIt('handler: leafPaths + availableTo (update result)', STEPS, (i) => {
  const [s, e] = at(i);
  leafPaths(proc, s.value);
  availableTo(proc, s, e.actor, 2);
});
const total = Object.values(parts).reduce((a, b) => a + b, 0);
console.log(`${total.toFixed(1).padStart(9)} µs  total engine work per update`);

// As in the workflow: a machine compiled per instance, each instance living 20 updates.
{
  const instances = Math.max(20, Math.floor(STEPS / 100));
  let updateMs = 0;
  let firstMs = 0;
  for (let n = 0; n < instances; n++) {
    const fresh = compileProcedure(def.ir);
    let s = startInstance(fresh, { client: 'ACME' }, { id: 'starter', roles: [] }, 0).state;
    for (let k = 0; k < 20; k++) {
      const e = k === 19 ? { type: 'APPROVE', actor: MANAGER } : events[k % 2]!;
      const t = performance.now();
      if (explainRejection(fresh, s, e, 2)) throw new Error('rejected');
      s = applyEvent(fresh, s, e, 2).state;
      describeInstance(fresh, s, 2);
      leafPaths(fresh, s.value);
      availableTo(fresh, s, e.actor, 2);
      const dt = performance.now() - t;
      updateMs += dt;
      if (k === 0) firstMs += dt;
    }
  }
  console.log(
    `${((updateMs * 1000) / (instances * 20)).toFixed(1).padStart(9)} µs  the same, machine compiled per instance, mean over its 20 updates` +
      ` (first update of an instance: ${((firstMs * 1000) / instances).toFixed(0)} µs)`,
  );
}

console.log('\nInside explainRejection / step:');
timeIt('  resolveState (snapshotOf)', STEPS, (i) => {
  const [s] = at(i);
  proc.machine.resolveState({ value: s.value, context: s.context });
});
timeIt('  snapshot.can(event) (runs the `allowed` guard: ajv + CEL)', STEPS, (i) => {
  const [s, e] = at(i);
  const snap = proc.machine.resolveState({ value: s.value, context: s.context });
  snap.can({ type: e.type, data: e.data ?? {}, actor: e.actor, at: 2 });
});
timeIt('  XState transition() alone', STEPS, (i) => {
  const [s, e] = at(i);
  const snap = proc.machine.resolveState({ value: s.value, context: s.context });
  transition(proc.machine, snap, { type: e.type, data: e.data ?? {}, actor: e.actor, at: 2 });
});
timeIt('  pureTransition() (the inert actor scope made once per machine)', STEPS, (i) => {
  const [s, e] = at(i);
  const snap = proc.machine.resolveState({ value: s.value, context: s.context });
  pureTransition(proc.machine, snap, { type: e.type, data: e.data ?? {}, actor: e.actor, at: 2 });
});
timeIt('  ajv: eventData check', STEPS, (i) => {
  const [, e] = at(i);
  proc.schemas.eventData(e.type, e.data);
});
timeIt('  CEL: size(data.comment) > 0 (guard of RETURN)', STEPS, () => {
  evaluateGuard(
    'size(data.comment) > 0',
    scopeOf(reviewing.context, { type: 'RETURN', data: { comment: 'x' } }),
  );
});

// The baseline's per-update work, replayed: validator + handler (validate again), result.
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
const submit = ajv.compile({
  type: 'object',
  required: ['summary'],
  properties: { summary: { type: 'string', minLength: 3 } },
  additionalProperties: false,
});
const ret = ajv.compile({
  type: 'object',
  required: ['comment'],
  properties: { comment: { type: 'string' } },
  additionalProperties: false,
});
const ON: Record<string, Record<string, string[]>> = {
  drafting: { SUBMIT: ['project_staff'] },
  reviewing: { RETURN: ['quality_manager'], APPROVE: ['quality_manager'] },
};
const actors: Record<string, string[]> = { SUBMIT: ['alice'] };
const validate = (state: string, e: EventInput): void => {
  const roles = ON[state]?.[e.type];
  if (!roles || !roles.some((r) => e.actor.roles.includes(r))) throw new Error('no');
  if (e.type !== 'SUBMIT' && actors.SUBMIT?.includes(e.actor.id)) throw new Error('duty');
  if (!(e.type === 'SUBMIT' ? submit : ret)(e.data ?? {})) throw new Error('data');
  if (e.type === 'RETURN' && !(String(e.data?.comment ?? '').length > 0)) throw new Error('guard');
};
console.log('\nBaseline, per update (same checks, hand-written):');
timeIt('validator + handler re-check + result', STEPS, (i) => {
  const state = i % 2 ? 'reviewing' : 'drafting';
  const e = events[i % 2]!;
  validate(state, e);
  validate(state, e);
  Object.keys(ON[state]!)
    .filter((t) => ON[state]![t]!.some((r) => e.actor.roles.includes(r)))
    .sort();
});
