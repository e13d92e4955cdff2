/**
 * The instances this one called (`call:`; `calls` of the snapshot): each with its calling state,
 * a link to the called instance, and its status (running, ended in a final state, failed,
 * cancelled) — on the instance page beside the linked instances.
 */
import { Link } from '../router.tsx';
import type { CallLink } from '../../../workflows/contract.ts';
import { parseCallEvent } from '../../../workflows/core/call.ts';
import { useI18n } from '../i18n.tsx';

const STATUS: Record<CallLink['status'], { zh: string; en: string }> = {
  running: { zh: '进行中', en: 'running' },
  done: { zh: '已结束', en: 'ended' },
  failed: { zh: '失败', en: 'failed' },
  cancelled: { zh: '已取消', en: 'cancelled' },
};

export function CalledInstances(props: { calls: CallLink[]; title: (procedure: string) => string }) {
  const { pick } = useI18n();
  if (!props.calls.length) return null;
  return (
    <ul className="plain" aria-label={pick({ zh: '调用的实例', en: 'Called instances' })}>
      {props.calls.map((c) => (
        <li key={c.workflowId} data-call-status={c.status}>
          <span className="muted">{pick({ zh: `在 ${c.state} 调用：`, en: `Called in ${c.state}: ` })}</span>
          {props.title(c.procedure)}{' '}
          <Link to={`/instances/${encodeURIComponent(c.workflowId)}`} className="mono">
            {c.workflowId}
          </Link>{' '}
          <span className="badge">
            {pick(STATUS[c.status])}
            {c.status === 'done' && c.outcome ? ` · ${c.outcome}` : ''}
          </span>
          {c.reason && <span className="error-detail"> {c.reason}</span>}
        </li>
      ))}
    </ul>
  );
}

/** The timeline's title of a called instance's outcome (`$call/<state>/…`), or undefined for another event. */
export function callEventTitle(
  type: string,
  pick: (t: { zh: string; en: string }) => string,
): string | undefined {
  const parsed = parseCallEvent(type);
  if (!parsed) return undefined;
  const { outcome } = parsed;
  if (outcome === 'failed') return pick({ zh: '被调用的实例失败', en: 'Called instance failed' });
  if (outcome === 'cancelled') return pick({ zh: '被调用的实例已取消', en: 'Called instance cancelled' });
  return pick({ zh: `被调用的实例结束：${outcome}`, en: `Called instance ended: ${outcome}` });
}
