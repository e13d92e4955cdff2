/**
 * Deploy: confirm, `POST /api/definitions`, show the outcome (or why the server refused). The
 * outcome is a proposal (202: a second admin approves it, linked) unless single-admin deploys are
 * on (201: deployed at once).
 */
import { useState } from 'react';
import type { Diagnostic } from '../../../workflows/core/diagnostics.ts';
import { api, ApiError } from '../api.ts';
import { useI18n } from '../i18n.tsx';
import { Link } from '../router.tsx';
import type { DeployResult, ProposalResult } from './types.ts';

export type DeployOutcome = { ok: DeployResult } | { proposed: ProposalResult } | { error: ApiError };

export function DeployControls(props: {
  yaml: string;
  id?: string | undefined;
  version?: string | undefined;
  disabled: boolean;
  disabledWhy?: string | undefined;
  /** Single-admin deploys are on (the confirmation says "deploy", not "propose"). */
  singleAdmin?: boolean | undefined;
  onDeployed: (r: DeployResult) => void;
  onRefused: (diagnostics: Diagnostic[]) => void;
  navigate: (path: string) => void;
}) {
  const { pick, dateTime } = useI18n();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<DeployOutcome | undefined>();

  const deploy = async (): Promise<void> => {
    setBusy(true);
    try {
      const r = await api<DeployResult | ProposalResult>('POST', '/api/definitions', { yaml: props.yaml });
      if ('workflowId' in r) setOutcome({ proposed: r });
      else {
        setOutcome({ ok: r });
        props.onDeployed(r);
      }
    } catch (err) {
      const e =
        err instanceof ApiError ? err : new ApiError({ status: 0, code: 'ERROR', detail: String(err) });
      setOutcome({ error: e });
      const diags = e.problem.diagnostics;
      if (Array.isArray(diags)) props.onRefused(diags as Diagnostic[]);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };

  const why = (e: ApiError): string => {
    switch (e.code) {
      case 'VERSION_EXISTS':
        return pick({
          zh: '该版本号已部署且内容不同：请提高 version:。',
          en: 'That version is already deployed with other content: bump version:.',
        });
      case 'ALREADY_DEPLOYED':
        return pick({ zh: '这份定义已原样部署。', en: 'This exact definition is already deployed.' });
      case 'VERSION_NOT_NEWER':
        return pick({
          zh: '版本号必须高于当前部署的版本。',
          en: 'The version must be higher than the deployed one.',
        });
      case 'PROPOSAL_TOO_LARGE':
        return pick({ zh: '定义文本超过 100 kB。', en: 'The definition text is over 100 kB.' });
      case 'NOT_ADMIN':
        return pick({ zh: '只有管理员可以部署定义。', en: 'Only administrators deploy definitions.' });
      case 'DEFINITION_INVALID':
        return pick({
          zh: '服务器认为定义无效：见上方诊断。',
          en: 'The server found the definition invalid: see the diagnostics.',
        });
      default:
        return '';
    }
  };

  return (
    <div className="deploy">
      <button
        type="button"
        className="primary"
        disabled={props.disabled || busy}
        title={props.disabled ? props.disabledWhy : undefined}
        onClick={() => {
          setOutcome(undefined);
          setConfirming(true);
        }}
      >
        {pick({ zh: '部署', en: 'Deploy' })}
      </button>
      {props.disabled && props.disabledWhy && <span className="muted deploy-why">{props.disabledWhy}</span>}
      {confirming && (
        <div className="modal-backdrop">
          <div
            className="modal"
            role="dialog"
            aria-modal="true"
            aria-labelledby="deploy-confirm-title"
            aria-describedby="deploy-confirm-text"
          >
            <h2 id="deploy-confirm-title">
              {props.singleAdmin
                ? pick({ zh: '部署此定义？', en: 'Deploy this definition?' })
                : pick({ zh: '提交此定义供批准？', en: 'Propose this definition?' })}
            </h2>
            <p id="deploy-confirm-text">
              {props.singleAdmin
                ? pick({
                    zh: `将部署 ${props.id ?? ''} 的版本 ${props.version ?? ''}。新实例将使用此版本；运行中的实例保持原版本。`,
                    en: `Version ${props.version ?? ''} of ${props.id ?? ''} will be deployed. New instances use it; running instances keep their version.`,
                  })
                : pick({
                    zh: `将提出 ${props.id ?? ''} 的版本 ${props.version ?? ''}：另一名管理员批准后才部署。新实例届时使用此版本；运行中的实例保持原版本。`,
                    en: `Version ${props.version ?? ''} of ${props.id ?? ''} will be proposed: it is deployed when another administrator approves it. New instances then use it; running instances keep their version.`,
                  })}
            </p>
            <div className="modal-actions">
              <button type="button" onClick={() => setConfirming(false)} disabled={busy}>
                {pick({ zh: '取消', en: 'Cancel' })}
              </button>
              <button
                type="button"
                className="primary"
                onClick={() => void deploy()}
                disabled={busy}
                autoFocus
              >
                {busy ? pick({ zh: '正在部署…', en: 'Deploying…' }) : pick({ zh: '确认', en: 'Confirm' })}
              </button>
            </div>
          </div>
        </div>
      )}
      {outcome && 'ok' in outcome && (
        <div className="deploy-result ok" role="status">
          <p>
            {pick({
              zh: `已部署 ${outcome.ok.id} 版本 ${outcome.ok.version}（${outcome.ok.hash.slice(0, 12)}），部署人 ${outcome.ok.deployedBy}，${dateTime(outcome.ok.deployedAt)}。`,
              en: `Deployed ${outcome.ok.id} version ${outcome.ok.version} (${outcome.ok.hash.slice(0, 12)}) by ${outcome.ok.deployedBy}, ${dateTime(outcome.ok.deployedAt)}.`,
            })}
          </p>
          <button
            type="button"
            onClick={() => props.navigate(`/start?procedure=${encodeURIComponent(outcome.ok.id)}`)}
          >
            {pick({ zh: '启动此版本的实例', en: 'Start an instance of this version' })}
          </button>
        </div>
      )}
      {outcome && 'proposed' in outcome && (
        <div className="deploy-result ok proposed" role="status">
          <p>
            {pick({
              zh: `已提出 ${outcome.proposed.id} 版本 ${outcome.proposed.version}，等待另一名管理员批准。`,
              en: `Proposed ${outcome.proposed.id} version ${outcome.proposed.version}, awaiting a second admin.`,
            })}{' '}
            <Link to={`/instances/${encodeURIComponent(outcome.proposed.workflowId)}`}>
              {pick({ zh: '查看变更', en: 'Open the proposal' })}
            </Link>
          </p>
          {outcome.proposed.weakened.length > 0 && (
            <p className="muted">
              {pick({ zh: '删除或修改的保障：', en: 'Safeguards dropped or altered: ' })}
              {outcome.proposed.weakened.join('; ')}
            </p>
          )}
        </div>
      )}
      {outcome && 'error' in outcome && (
        <div className="deploy-result error" role="alert" data-code={outcome.error.code}>
          <p>
            {pick({ zh: '部署被拒绝', en: 'Deployment refused' })} ({outcome.error.code}):{' '}
            {why(outcome.error)} <span className="muted">{outcome.error.message}</span>
          </p>
        </div>
      )}
    </div>
  );
}
