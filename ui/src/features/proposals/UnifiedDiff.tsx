/** A unified diff (as a proposal pins it) as a table: added lines green, removed lines red. */
import { useI18n } from '../../i18n.tsx';

type Kind = 'added' | 'removed' | 'hunk' | 'same' | 'header';

interface Row {
  kind: Kind;
  text: string;
}

/** The rows of a unified diff text (the `Index:`/`===` preamble left out). */
export function diffRows(diff: string): Row[] {
  const rows: Row[] = [];
  for (const line of diff.replace(/\n$/, '').split('\n')) {
    if (line.startsWith('Index:') || /^=+$/.test(line)) continue;
    if (line.startsWith('+++') || line.startsWith('---')) rows.push({ kind: 'header', text: line });
    else if (line.startsWith('@@')) rows.push({ kind: 'hunk', text: line });
    else if (line.startsWith('+')) rows.push({ kind: 'added', text: line.slice(1) });
    else if (line.startsWith('-')) rows.push({ kind: 'removed', text: line.slice(1) });
    else if (line.startsWith('\\'))
      continue; // "\ No newline at end of file"
    else rows.push({ kind: 'same', text: line.slice(1) });
  }
  return rows;
}

const SIGN: Record<Kind, string> = { added: '+', removed: '−', hunk: '', same: ' ', header: '' };

export function UnifiedDiff({ diff }: { diff: string }) {
  const { pick } = useI18n();
  const rows = diffRows(diff);
  const added = rows.filter((r) => r.kind === 'added').length;
  const removed = rows.filter((r) => r.kind === 'removed').length;
  return (
    <div className="proposal-diff">
      <p className="proposal-diff-summary" data-testid="diff-summary">
        {pick({ zh: `+${added} 行，−${removed} 行`, en: `+${added} lines, −${removed} lines` })}
      </p>
      <table aria-label={pick({ zh: '差异', en: 'Changes' })}>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i} className={`pdiff-${r.kind}`} data-kind={r.kind}>
              <td className="pdiff-sign">{SIGN[r.kind]}</td>
              <td className="pdiff-text">{r.text}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
