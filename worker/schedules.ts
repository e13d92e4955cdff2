/**
 * Temporal Schedules for definitions that declare `schedule:` (e.g. the quality manager's
 * routine supervision check, 4.6.2). Kept in step with the deployed definitions: created when
 * missing, updated to the current version (IR + hash are the schedule's workflow input), and
 * removed when a definition no longer declares one. Schedule ids are `custodia-<procedure>`.
 */
import { SCHEDULE_STARTER_ID } from '../workflows/core/start-fields.ts';
import {
  ScheduleNotFoundError,
  type Client,
  type ScheduleOptionsAction,
  type ScheduleSpec,
} from '@temporalio/client';
import { parseDuration } from '../workflows/core/duration.ts';
import { compileProcedure } from '../workflows/core/compile.ts';
import { WORKFLOW_TYPE, type ProcedureInput } from '../workflows/api.ts';
import type { LoadedDefinition } from './definitions.ts';
import { startSearchAttributes } from './instances.ts';
import { calendarInput } from './calendars.ts';

const PREFIX = 'custodia-';

export interface ScheduleSync {
  created: string[];
  updated: string[];
  deleted: string[];
}

/** The schedule id of a procedure. */
export function scheduleId(procedure: string): string {
  return `${PREFIX}${procedure}`;
}

function specOf(def: LoadedDefinition): ScheduleSpec {
  const s = def.ir.schedule!;
  if (s.every) {
    const ms = parseDuration(s.every);
    if (ms === undefined || ms < 60_000) throw new Error(`${def.file}: schedule.every must be at least PT1M`);
    return { intervals: [{ every: ms }] };
  }
  return { cronExpressions: [s.cron!], ...(s.timezone ? { timezone: s.timezone } : {}) };
}

function actionOf(def: LoadedDefinition, taskQueue: string): ScheduleOptionsAction {
  const input: ProcedureInput = {
    ir: def.ir,
    hash: def.hash,
    context: def.ir.schedule!.input,
    starter: { id: SCHEDULE_STARTER_ID, roles: [] },
    ...calendarInput(def.ir),
  };
  return {
    type: 'startWorkflow',
    workflowType: WORKFLOW_TYPE,
    taskQueue,
    args: [input],
    workflowId: `${def.ir.id}-scheduled`,
    typedSearchAttributes: startSearchAttributes(def.ir, def.ir.schedule!.input),
  };
}

/** Check a scheduled definition's start input now, rather than failing at the first firing. */
function checkInput(def: LoadedDefinition): void {
  const problems = compileProcedure(def.ir).schemas.startInputProblems(def.ir.schedule!.input);
  if (problems.length)
    throw new Error(
      `${def.file}: schedule.input does not match the context fields: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
    );
}

export async function syncSchedules(
  client: Client,
  definitions: Iterable<LoadedDefinition>,
  taskQueue: string,
): Promise<ScheduleSync> {
  const result: ScheduleSync = { created: [], updated: [], deleted: [] };
  const wanted = new Map<string, LoadedDefinition>();
  for (const def of definitions) if (def.ir.schedule) wanted.set(scheduleId(def.ir.id), def);

  for (const [id, def] of wanted) {
    checkInput(def);
    const spec = specOf(def);
    const action = actionOf(def, taskQueue);
    const handle = client.schedule.getHandle(id);
    try {
      const current = await handle.describe();
      const args = current.action.type === 'startWorkflow' ? (current.action.args as ProcedureInput[]) : [];
      if (
        args[0]?.hash === def.hash &&
        current.action.type === 'startWorkflow' &&
        current.action.taskQueue === taskQueue
      )
        continue;
      await handle.update((prev) => ({ ...prev, spec, action }));
      result.updated.push(id);
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      await client.schedule.create({ scheduleId: id, spec, action });
      result.created.push(id);
    }
  }
  for await (const s of client.schedule.list()) {
    if (s.scheduleId.startsWith(PREFIX) && !wanted.has(s.scheduleId)) {
      await client.schedule.getHandle(s.scheduleId).delete();
      result.deleted.push(s.scheduleId);
    }
  }
  return result;
}
