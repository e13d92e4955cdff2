/**
 * A definition change (`definition_change` instance) as its reviewer reads it: what changes
 * (procedure, current → proposed version, author, note, the SHA-256 the approval deploys), the
 * safeguards it drops or alters, the diff against the current version, and the validation and
 * proof results computed when it was proposed. Approve / reject are the instance's own events.
 */
import type { Json, Text } from '../../../../workflows/core/ir.ts';
import { useI18n } from '../../i18n.tsx';
import { Link } from '../../router.tsx';
import type { Snapshot } from '../../types.ts';
import { UnifiedDiff } from './UnifiedDiff.tsx';
import './proposals.css';

export { DEFINITION_CHANGE } from './ids.ts';
/** Context fields the panel shows (the generic details list leaves them out). */
export const PROPOSAL_FIELDS: readonly string[] = ['yaml', 'diff', 'validation', 'sha256', 'hash'];

interface InvariantRow {
  id: string;
  kind: string;
  holds: boolean;
  explored: number;
  description?: Text;
}
interface Warning {
  code: string;
  message: string;
  line: number;
  column: number;
}
interface Validation {
  valid?: boolean;
  invariants?: InvariantRow[];
  warnings?: Warning[];
  duties?: number;
  weakened?: string[];
}

const str = (v: Json | undefined): string => (typeof v === 'string' ? v : '');

export function ProposalPanel({ snapshot: s }: { snapshot: Snapshot }) {
  const { pick, text } = useI18n();
  const c = s.context;
  const v = (c.validation ?? {}) as Validation;
  const procedure = str(c.procedure);
  const weakened = v.weakened ?? [];
  const leaf = s.leaves[0];
  return (
    <div className="card proposal" aria-labelledby="proposal-title" data-testid="proposal">
      <h2 id="proposal-title">{pick({ zh: '程序定义变更', en: 'Definition change' })}</h2>
      <dl className="facts">
        <dt>{pick({ zh: '程序', en: 'Procedure' })}</dt>
        <dd>
          <Link to={`/definitions/${encodeURIComponent(procedure)}`}>{procedure}</Link>
        </dd>
        <dt>{pick({ zh: '版本', en: 'Version' })}</dt>
        <dd data-testid="proposal-versions">
          {str(c.base_version) || pick({ zh: '（新程序）', en: '(new procedure)' })} →{' '}
          <strong>{str(c.version)}</strong>
        </dd>
        <dt>{pick({ zh: '提出人', en: 'Proposed by' })}</dt>
        <dd>{str(c.author)}</dd>
        {str(c.note) && (
          <>
            <dt>{pick({ zh: '说明', en: 'Note' })}</dt>
            <dd>{str(c.note)}</dd>
          </>
        )}
        <dt>SHA-256</dt>
        <dd className="mono proposal-sha">{str(c.sha256)}</dd>
      </dl>
      {leaf === 'deployed' && (
        <p className="proposal-outcome ok" role="status">
          {pick({
            zh: `已部署 ${procedure} ${str(c.version)}。`,
            en: `Deployed ${procedure} ${str(c.version)}.`,
          })}
        </p>
      )}
      {leaf === 'failed' && (
        <p className="proposal-outcome error" role="alert">
          {pick({ zh: '部署失败，未作任何更改：', en: 'Deployment failed, nothing changed: ' })}
          <span className="mono">{str(c.failure)}</span>
        </p>
      )}
      {weakened.length > 0 && (
        <div className="proposal-weakened" role="alert">
          <strong>
            {pick({
              zh: '此变更删除或修改了当前版本的以下保障：',
              en: 'This change drops or alters these safeguards of the current version:',
            })}
          </strong>
          <ul>
            {weakened.map((w) => (
              <li key={w} className="mono">
                {w}
              </li>
            ))}
          </ul>
        </div>
      )}
      <h3>{pick({ zh: '与当前版本的差异', en: 'Changes against the current version' })}</h3>
      {str(c.diff) ? (
        <UnifiedDiff diff={str(c.diff)} />
      ) : (
        <p className="muted">{pick({ zh: '没有差异。', en: 'No differences.' })}</p>
      )}
      <h3>{pick({ zh: '验证和证明', en: 'Validation and proofs' })}</h3>
      <p data-testid="proposal-validation">
        {v.valid
          ? pick({
              zh: `定义有效；${v.invariants?.length ?? 0} 个不变式在所有路径上得到证明；${v.duties ?? 0} 条职责分离规则。`,
              en: `Valid; ${v.invariants?.length ?? 0} invariant(s) proved on every path; ${v.duties ?? 0} separation-of-duties rule(s).`,
            })
          : pick({ zh: '无验证结果。', en: 'No validation results.' })}
      </p>
      {v.invariants && v.invariants.length > 0 && (
        <ul className="proposal-proofs" aria-label={pick({ zh: '不变式', en: 'Invariants' })}>
          {v.invariants.map((r) => (
            <li key={r.id} className={r.holds ? 'holds' : 'violated'}>
              <span aria-hidden="true">{r.holds ? '✓' : '✗'}</span> <span className="mono">{r.id}</span>{' '}
              <span className="muted">({r.kind})</span>
              {r.description ? ` — ${text(r.description)}` : ''}{' '}
              <span className="muted">
                {pick({ zh: `（${r.explored} 个配置）`, en: `(${r.explored} configurations)` })}
              </span>
            </li>
          ))}
        </ul>
      )}
      {v.warnings && v.warnings.length > 0 && (
        <ul className="proposal-warnings" aria-label={pick({ zh: '警告', en: 'Warnings' })}>
          {v.warnings.map((w, i) => (
            <li key={i}>
              <span className="mono">
                {w.line}:{w.column} {w.code}
              </span>{' '}
              {w.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
