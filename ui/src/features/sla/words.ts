/** Delays and a state's `sla:` in words, in both languages (the diagram's labels and tooltips). */
import { parseDelay } from '../../../../workflows/core/duration.ts';
import type { StateIR } from '../../../../workflows/core/ir.ts';

type Words = { zh: string; en: string };

/** "after 2 d" / "after 2 working days" (the text itself when it is no delay). */
export function delayWords(delay: string, duration: (ms: number) => string): Words {
  const d = parseDelay(delay);
  if (d && 'workingDays' in d)
    return {
      zh: `${d.workingDays} 个工作日后`,
      en: `after ${d.workingDays} working day${d.workingDays === 1 ? '' : 's'}`,
    };
  const text = d ? duration(d.ms) : delay;
  return { zh: `${text} 后`, en: `after ${text}` };
}

/** A state's due time, reminders and escalation chain, or undefined when it has none. */
export function slaWords(
  state: StateIR,
  duration: (ms: number) => string,
  role: (id: string) => string,
): Words | undefined {
  if (state.sla === undefined && !state.slaPlan) return undefined;
  const parts: { zh: string[]; en: string[] } = { zh: [], en: [] };
  const span = (delay: string): Words => {
    const d = parseDelay(delay);
    if (d && 'workingDays' in d)
      return {
        zh: `${d.workingDays} 个工作日`,
        en: `${d.workingDays} working day${d.workingDays === 1 ? '' : 's'}`,
      };
    const text = d ? duration(d.ms) : delay;
    return { zh: text, en: text };
  };
  if (state.sla !== undefined) {
    const s = span(state.sla);
    parts.zh.push(`期限 ${s.zh}`);
    parts.en.push(`due in ${s.en}`);
  }
  for (const r of state.slaPlan?.remind ?? []) {
    const item = typeof r === 'string' ? { after: r } : r;
    const s = span(item.after);
    parts.zh.push(item.to ? `${s.zh}后提醒${role(item.to)}` : `${s.zh}后提醒`);
    parts.en.push(item.to ? `reminds ${role(item.to)} after ${s.en}` : `reminder after ${s.en}`);
  }
  (state.slaPlan?.escalate ?? []).forEach((e, i) => {
    const s = span(e.after);
    parts.zh.push(`${s.zh}后升级至${role(e.to)}（第 ${i + 1} 级）`);
    parts.en.push(`escalates to ${role(e.to)} after ${s.en} (level ${i + 1})`);
  });
  return { zh: parts.zh.join('；'), en: parts.en.join('; ') };
}
