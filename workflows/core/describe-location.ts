/**
 * Where a JSON pointer leads, in words, for messages: `transition APPROVE in state "submitted"`,
 * `"title.zh" of event SUBMIT`, `action #2 of timer #1 in state "issued"`.
 */
import { isActionKind } from './actions/index.ts';
import { parsePointer } from './positions.ts';

type Entity = 'procedure' | 'state' | 'transition' | 'timer' | 'action' | 'other';

/** A person's description of where `pointer` leads in a procedure document. */
export function describeLocation(pointer: string): string {
  const segs = parsePointer(pointer);
  let entity: Entity = 'procedure';
  let label = 'the procedure';
  const states: string[] = [];
  const rest: string[] = [];
  const isIndex = (s: string | undefined): s is string => s !== undefined && /^\d+$/.test(s);
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i] as string;
    const next = segs[i + 1];
    const canStep = rest.length === 0 && next !== undefined;
    if (canStep && s === 'states' && (entity === 'procedure' || entity === 'state')) {
      states.push(next);
      [entity, label] = ['state', `state "${states.join('.')}"`];
    } else if (canStep && s === 'on' && (entity === 'procedure' || entity === 'state')) {
      const index = segs[i + 2];
      const nth = isIndex(index) && index !== '0' ? ` #${Number(index) + 1}` : '';
      [entity, label] = ['transition', `transition ${next}${nth} in ${label}`];
      if (isIndex(index)) i++;
    } else if (canStep && s === 'after' && isIndex(next) && (entity === 'procedure' || entity === 'state')) {
      [entity, label] = ['timer', `timer #${Number(next) + 1} in ${label}`];
    } else if (
      canStep &&
      s === 'actions' &&
      isIndex(next) &&
      (entity === 'transition' || entity === 'timer')
    ) {
      const kind = segs[i + 2];
      const known = isActionKind(kind);
      [entity, label] = ['action', `${known ? `${kind} ` : ''}action #${Number(next) + 1} of ${label}`];
      if (known) i++;
    } else if (canStep && entity === 'procedure' && i === 0 && TOP_LEVEL[s]) {
      const [kind, quote] = TOP_LEVEL[s];
      const name = isIndex(next) && !quote ? `#${Number(next) + 1}` : quote ? `"${next}"` : next;
      [entity, label] = ['other', `${kind} ${name}`];
    } else {
      rest.push(isIndex(s) && rest.length > 0 ? `[${s}]` : s);
      continue;
    }
    i++;
  }
  if (rest.length === 0) return label;
  return `"${rest.join('.').replace(/\.\[/g, '[')}" of ${label}`;
}

/** Top-level collections whose members are named in messages: key → [noun, quote the name]. */
const TOP_LEVEL: Record<string, [string, boolean]> = {
  events: ['event', false],
  context: ['context field', true],
  roles: ['role', true],
  duties: ['duty', false],
  invariants: ['invariant', false],
};
