/**
 * The simulator's service levels (`sla:`): the reminders and escalations of the states the
 * simulation is in — the points the workflow arms (`simulatedSla`, over `core/sla.ts`), working
 * days counted on the deployment's current business calendar — each a step the user advances to
 * in order ("Advance to: reminder 1", "Advance to: escalation to Quality Manager (level 1)"), and
 * the notifications they sent: to whom, at which level, with the engine's own text.
 */
import { useEffect, useState } from 'react';
import type { BusinessCalendar } from '../../../workflows/core/calendar.ts';
import { loadCalendar } from '../../../workflows/core/calendar-load.ts';
import type { CompiledProcedure } from '../../../workflows/core/compile.ts';
import { usesWorkingDays } from '../../../workflows/core/sla.ts';
import { api } from '../api.ts';
import { useI18n } from '../i18n.tsx';
import { simulatedSla, type SimulatedSlaPoint, type Simulation } from './simulation.ts';

/**
 * The deployment's current business calendar (what new instances pin), for procedures that count
 * working days; undefined until loaded, or when it cannot be read (it is for admins).
 */
export function useSimulatorCalendar(proc: CompiledProcedure): BusinessCalendar | undefined {
  const needed = usesWorkingDays(proc.ir.root);
  const [calendar, setCalendar] = useState<BusinessCalendar | undefined>();
  useEffect(() => {
    if (!needed || calendar) return;
    const ctl = new AbortController();
    void (async () => {
      try {
        const list = await api<{ current: { version: number } }>('GET', '/api/calendars', undefined, {
          signal: ctl.signal,
        });
        const one = await api<{ text: string }>('GET', `/api/calendars/${list.current.version}`, undefined, {
          signal: ctl.signal,
        });
        const loaded = loadCalendar(one.text, 'calendar').calendar;
        if (loaded) setCalendar(loaded);
      } catch {
        // Not readable (not an admin) or offline: working-day points are not listed (note below).
      }
    })();
    return () => ctl.abort();
  }, [needed, calendar]);
  return calendar;
}

export function SimulatorSla(props: {
  proc: CompiledProcedure;
  sim: Simulation;
  calendar?: BusinessCalendar;
  play: (key: string) => void;
}) {
  const { proc, sim, calendar, play } = props;
  const { pick, text, dateTime } = useI18n();
  const { points, level } = simulatedSla(proc, sim, calendar);
  const notices = sim.notices ?? [];
  const hasPlans = [...proc.nodes.values()].some((n) => n.slaPlan);
  if (!hasPlans) return null;
  const roleName = (r: string): string => `${text(proc.ir.roles[r]) || r} (${r})`;
  const label = (p: Pick<SimulatedSlaPoint, 'kind' | 'index' | 'to' | 'level'>): string =>
    p.kind === 'remind'
      ? pick({ zh: `提醒 ${p.index + 1}`, en: `reminder ${p.index + 1}` })
      : pick({
          zh: `升级至 ${roleName(p.to ?? '')}（第 ${p.level} 级）`,
          en: `escalation to ${roleName(p.to ?? '')} (level ${p.level})`,
        });
  const missingCalendar = !calendar && usesWorkingDays(proc.ir.root);
  return (
    <section className="sim-sla" aria-label={pick({ zh: '时限', en: 'Service level' })}>
      <p data-testid="sim-escalation">
        {pick({ zh: '升级级别：', en: 'Escalation level: ' })}
        <strong>{level}</strong>
      </p>
      {missingCalendar && (
        <p className="sim-note">
          {pick({
            zh: '无法读取工作日历：按工作日计的提醒和升级未列出。',
            en: 'The business calendar could not be read: reminders and escalations in working days are not listed.',
          })}
        </p>
      )}
      {points.length > 0 && (
        <ul className="sim-timers" aria-label={pick({ zh: '提醒和升级', en: 'Reminders and escalations' })}>
          {points.map((p) => (
            <li key={p.key}>
              {label(p)} · {text(proc.nodes.get(p.state)?.title) || p.state} ·{' '}
              {dateTime(new Date(p.at).toISOString())}{' '}
              {p.kind === 'remind' && (
                <span>{pick({ zh: '（通知可处理的角色）', en: '(tells the roles that can act)' })} </span>
              )}
              {p.sent ? (
                <em>{pick({ zh: '已发送', en: 'sent' })}</em>
              ) : (
                <button type="button" onClick={() => play(p.key)}>
                  {pick({ zh: `推进到：${label(p)}`, en: `Advance to: ${label(p)}` })}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {notices.length > 0 && (
        <ol className="sim-log" aria-label={pick({ zh: '已发出的通知', en: 'Notifications sent' })}>
          {notices.map((n, i) => (
            <li key={`${n.seq}-${i}`}>
              <code>
                {n.kind === 'remind'
                  ? pick({ zh: '提醒', en: 'reminder' })
                  : pick({ zh: `升级 ${n.level}`, en: `escalation ${n.level}` })}
              </code>{' '}
              → <strong>{roleName(n.to)}</strong>: {text(n.message)}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
