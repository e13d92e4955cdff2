/**
 * What the report shows, derived from the whole records of the audit segment alone — so every
 * line of the PDF traces to a hashed record of `audit-segment.jsonl`: the instances of the period
 * with their timelines (accepted transitions and refused events), the named logs their transitions
 * wrote (`record` effects: lending, disclosure, visitors, custody, training, corrective actions, …)
 * and the notifications they sent.
 */
import type { Json, Text } from '../../workflows/core/ir.ts';
import type { AuditEntry } from '../records/types.ts';
import { isSealed, type SegmentRecord } from './types.ts';

export interface TimelineStep {
  position: number;
  at: string;
  kind: 'transition' | 'refusal';
  /** Event type (or the refused action). */
  event: string;
  from: string[];
  to: string[];
  actor: string;
  roles: string[];
  clauses: string[];
  /** For a refusal: its code and reason. */
  refusal?: { code: string; reason: string };
}

export interface InstanceTimeline {
  workflowId: string;
  procedure: string;
  version: string;
  definitionHash: string;
  /** The first accepted transition is the instance's start (seq 1 from `$start`). */
  startedInPeriod: boolean;
  /** Leaf states after its last transition of the period. */
  state: string[];
  steps: TimelineStep[];
}

export interface LogRow {
  workflowId: string;
  procedure: string;
  position: number;
  at: string;
  actor: string;
  fields: Record<string, Json>;
}

export interface NamedLog {
  name: string;
  rows: LogRow[];
}

export interface NotificationRow {
  workflowId: string;
  procedure: string;
  position: number;
  at: string;
  to: string;
  message: Text;
}

export interface PackContent {
  instances: InstanceTimeline[];
  logs: NamedLog[];
  notifications: NotificationRow[];
  /** Other records of the client in the period (exports, refusals outside an instance, …). */
  other: AuditEntry[];
}

const strings = (v: Json | undefined): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
const text = (v: Json | undefined): string => (typeof v === 'string' ? v : '');

/** Instances, logs and notifications of `client` from the segment's whole records. */
export function packContent(segment: readonly SegmentRecord[], client: string): PackContent {
  const instances = new Map<string, InstanceTimeline>();
  const logs = new Map<string, LogRow[]>();
  const notifications: NotificationRow[] = [];
  const other: AuditEntry[] = [];
  for (const r of segment) {
    if (isSealed(r) || r.client !== client) continue;
    const b = r.body;
    if (r.kind === 'transition') {
      const inst = instances.get(r.subject) ?? {
        workflowId: r.subject,
        procedure: text(b.procedure),
        version: text(b.version),
        definitionHash: text(b.definitionHash),
        startedInPeriod: b.event === '$start' || r.seq === 1,
        state: [],
        steps: [],
      };
      inst.state = strings(b.to);
      inst.steps.push({
        position: r.position,
        at: r.at,
        kind: 'transition',
        event: text(b.event),
        from: strings(b.from),
        to: strings(b.to),
        actor: r.actorId,
        roles: strings(b.actorRoles),
        clauses: strings(b.clauses),
      });
      instances.set(r.subject, inst);
      const effects = Array.isArray(b.effects) ? b.effects : [];
      for (const e of effects) {
        if (!e || typeof e !== 'object' || Array.isArray(e)) continue;
        const base = { workflowId: r.subject, procedure: inst.procedure, position: r.position, at: r.at };
        if (e.kind === 'record' && typeof e.record === 'string') {
          const fields = e.fields && typeof e.fields === 'object' && !Array.isArray(e.fields) ? e.fields : {};
          logs.set(e.record, [...(logs.get(e.record) ?? []), { ...base, actor: r.actorId, fields }]);
        } else if (
          e.kind === 'notify' &&
          e.message &&
          typeof e.message === 'object' &&
          !Array.isArray(e.message)
        )
          notifications.push({
            ...base,
            to: text(e.to),
            message: { zh: text(e.message.zh), en: text(e.message.en) },
          });
      }
    } else if (r.kind === 'refusal' && instances.has(r.subject)) {
      instances.get(r.subject)!.steps.push({
        position: r.position,
        at: r.at,
        kind: 'refusal',
        event: text(b.event) || text(b.action),
        from: [],
        to: [],
        actor: r.actorId,
        roles: strings(b.actorRoles),
        clauses: [],
        refusal: { code: text(b.code), reason: text(b.reason) },
      });
    } else other.push(r);
  }
  return {
    instances: [...instances.values()],
    logs: [...logs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, rows]) => ({ name, rows })),
    notifications,
    other,
  };
}

/** A JSON value's text for a table cell. */
export function cellText(v: Json | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
