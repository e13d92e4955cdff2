/** The draft's diagnostics as a list: each item names its line and jumps there when clicked. */
import { DIAGNOSTIC_TEXT } from '../../../workflows/core/diagnostic-texts.ts';
import type { Diagnostic } from '../../../workflows/core/diagnostics.ts';
import { useI18n } from '../i18n.tsx';

export function DiagnosticList(props: {
  diagnostics: readonly Diagnostic[];
  onJump: (line: number, column: number) => void;
  /** Still validating the latest text. */
  pending: boolean;
}) {
  const { pick } = useI18n();
  const { diagnostics } = props;
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  return (
    <section className="diagnostics" aria-label={pick({ zh: '诊断', en: 'Diagnostics' })}>
      <p className={`diagnostics-summary ${errors ? 'has-errors' : 'ok'}`} role="status">
        {props.pending
          ? pick({ zh: '正在检查…', en: 'Checking…' })
          : errors + warnings === 0
            ? pick({ zh: '没有问题：定义有效', en: 'No problems: the definition is valid' })
            : pick({
                zh: `${errors} 个错误，${warnings} 个警告`,
                en: `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`,
              })}
      </p>
      {diagnostics.length > 0 && (
        <ul className="diagnostics-list">
          {diagnostics.map((d, i) => (
            <li
              key={`${d.line}:${d.column}:${d.code}:${i}`}
              className={`diagnostic diagnostic-${d.severity}`}
              data-line={d.line}
              data-column={d.column}
              data-code={d.code}
              data-severity={d.severity}
            >
              <button type="button" onClick={() => props.onJump(d.line, d.column)}>
                <span className="diagnostic-where">
                  {d.severity === 'error'
                    ? pick({ zh: '错误', en: 'Error' })
                    : pick({ zh: '警告', en: 'Warning' })}{' '}
                  {pick({ zh: `第 ${d.line} 行第 ${d.column} 列`, en: `line ${d.line}, column ${d.column}` })}
                </span>{' '}
                <code className="diagnostic-code">{d.code}</code>{' '}
                <span className="diagnostic-summary">{pick(DIAGNOSTIC_TEXT[d.code])}:</span>{' '}
                <span className="diagnostic-message">{d.message}</span>
              </button>
              {d.hint && (
                <p className="diagnostic-hint">
                  {pick({ zh: '提示：', en: 'Hint: ' })}
                  {d.hint}
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
