/**
 * Reminders and escalations (`sla: { remind, escalate }`) as people see them: the escalation level
 * and the next reminder or escalation (the stalled view's column, the instance page's summary).
 */
import type { Text } from '../../../../workflows/core/ir.ts';
import type { SlaView } from '../../../../workflows/contract.ts';
import { useI18n } from '../../i18n.tsx';
import './sla.css';

export function SlaCell({ sla, names }: { sla?: SlaView; names?: Map<string, Text> | Record<string, Text> }) {
  const { pick, text, shortDateTime } = useI18n();
  if (!sla) return <span className="muted">—</span>;
  const roleName = (r: string): string => {
    const t = names instanceof Map ? names.get(r) : names?.[r];
    return t ? text(t) : r;
  };
  const next = sla.next;
  return (
    <span className="sla-cell" data-escalation={sla.level}>
      {sla.level > 0 ? (
        <span className="chip chip-escalated" data-testid="escalation-level">
          {pick({ zh: `已升级 ${sla.level} 级`, en: `Escalated, level ${sla.level}` })}
        </span>
      ) : (
        <span className="muted">{pick({ zh: '未升级', en: 'Not escalated' })}</span>
      )}
      {next && (
        <span className="sla-next" data-testid="next-reminder" title={next.at}>
          {next.kind === 'remind'
            ? pick({
                zh: `下次提醒 ${shortDateTime(next.at)}`,
                en: `Next reminder ${shortDateTime(next.at)}`,
              })
            : pick({
                zh: `${shortDateTime(next.at)} 升级至${roleName(next.to ?? '')}`,
                en: `Escalates to ${roleName(next.to ?? '')} ${shortDateTime(next.at)}`,
              })}
        </span>
      )}
    </span>
  );
}
