/** Line diff of the draft against the deployed YAML (unified, with line numbers and colours). */
import { useMemo } from 'react';
import { diffLines } from 'diff';
import { useI18n } from '../i18n.tsx';

interface Row {
  kind: 'same' | 'added' | 'removed';
  oldNo?: number;
  newNo?: number;
  text: string;
}

function rowsOf(before: string, after: string): Row[] {
  const rows: Row[] = [];
  let o = 1;
  let n = 1;
  for (const part of diffLines(before, after)) {
    const lines = part.value.replace(/\n$/, '').split('\n');
    for (const text of lines) {
      if (part.added) rows.push({ kind: 'added', newNo: n++, text });
      else if (part.removed) rows.push({ kind: 'removed', oldNo: o++, text });
      else rows.push({ kind: 'same', oldNo: o++, newNo: n++, text });
    }
  }
  return rows;
}

/** Unchanged lines kept around each change. */
const CONTEXT = 3;

export function DiffView(props: { deployed: string | undefined; draft: string; version?: string }) {
  const { pick } = useI18n();
  const rows = useMemo(() => rowsOf(props.deployed ?? '', props.draft), [props.deployed, props.draft]);
  if (props.deployed === undefined)
    return (
      <p className="muted">
        {pick({ zh: '尚未部署：没有可比较的版本。', en: 'Not deployed yet: nothing to compare with.' })}
      </p>
    );
  const changed = rows.some((r) => r.kind !== 'same');
  if (!changed)
    return (
      <p className="muted">
        {pick({ zh: '草稿与已部署版本相同。', en: 'The draft is the same as the deployed version.' })}
      </p>
    );
  const added = rows.filter((r) => r.kind === 'added').length;
  const removed = rows.filter((r) => r.kind === 'removed').length;
  const near = new Set<number>();
  rows.forEach((r, i) => {
    if (r.kind !== 'same') for (let j = i - CONTEXT; j <= i + CONTEXT; j++) near.add(j);
  });
  const out: React.ReactNode[] = [];
  let gap = false;
  rows.forEach((r, i) => {
    if (!near.has(i)) {
      if (!gap)
        out.push(
          <tr key={`g${i}`} className="diff-gap">
            <td colSpan={4}>⋯</td>
          </tr>,
        );
      gap = true;
      return;
    }
    gap = false;
    out.push(
      <tr key={i} className={`diff-${r.kind}`}>
        <td className="diff-no">{r.oldNo ?? ''}</td>
        <td className="diff-no">{r.newNo ?? ''}</td>
        <td className="diff-sign">{r.kind === 'added' ? '+' : r.kind === 'removed' ? '−' : ' '}</td>
        <td className="diff-text">{r.text}</td>
      </tr>,
    );
  });
  return (
    <div className="diff">
      <p className="diff-summary">
        {pick({
          zh: `与已部署版本 ${props.version ?? ''} 相比：+${added} 行，−${removed} 行`,
          en: `Against deployed version ${props.version ?? ''}: +${added} lines, −${removed} lines`,
        })}
      </p>
      <table className="diff-table" aria-label={pick({ zh: '差异', en: 'Changes' })}>
        <tbody>{out}</tbody>
      </table>
    </div>
  );
}
