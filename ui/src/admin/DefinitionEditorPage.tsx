/**
 * The definition editor: YAML in CodeMirror validated as you type (in the browser, with the same
 * code the worker uses), the draft's diagram, a simulator, the invariant proof, the diff against
 * the deployed version, and deployment.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Diagnostic } from '../../../workflows/core/diagnostics.ts';
import type { ProcedureIR } from '../../../workflows/core/ir.ts';
import { validateProcedureText, type ValidationResult } from '../../../workflows/core/validate.ts';
import { api, ApiError } from '../api.ts';
import { Diagram } from '../diagram/Diagram.tsx';
import { useI18n } from '../i18n.tsx';
import { DeployControls } from './Deploy.tsx';
import { SingleAdminBanner, useSingleAdminDeploy } from './DeployMode.tsx';
import { DiagnosticList } from './DiagnosticList.tsx';
import { DiffView } from './DiffView.tsx';
import { MigrationPanel } from '../features/migration/MigrationPanel.tsx';
import { Simulator, type SimulationView } from './Simulator.tsx';
import type { DefinitionDetail, ServerValidation } from './types.ts';
import { useVerification, VerificationPanel } from './Verification.tsx';
import { YamlEditor, type EditorHandle } from './YamlEditor.tsx';
import './admin.css';

const NEW_TEMPLATE = `id: my_procedure
version: 1.0.0
title: { zh: 新流程, en: New procedure }
description: { zh: 说明, en: What this procedure is for }
clauses: []
roles:
  staff: { zh: 员工, en: Staff }
events:
  DONE:
    title: { zh: 完成, en: Done }
initial: open
states:
  open:
    title: { zh: 进行中, en: Open }
    on:
      DONE: { target: closed, roles: staff }
  closed:
    title: { zh: 已完成, en: Closed }
    type: final
`;

type Tab = 'simulator' | 'verification' | 'changes';

export function DefinitionEditorPage(props: { id?: string; navigate: (path: string) => void }) {
  const { pick, text } = useI18n();
  const isNew = !props.id || props.id === 'new';
  const [detail, setDetail] = useState<DefinitionDetail | undefined>();
  const [loadError, setLoadError] = useState<string | undefined>();
  const [draft, setDraft] = useState<string | undefined>(isNew ? NEW_TEMPLATE : undefined);
  const [checked, setChecked] = useState<{ text: string; result: ValidationResult } | undefined>();
  const [lastIr, setLastIr] = useState<ProcedureIR | undefined>();
  const [server, setServer] = useState<{ text: string; diagnostics: Diagnostic[] } | undefined>();
  const [validating, setValidating] = useState(false);
  const [tab, setTab] = useState<Tab>('simulator');
  const [sim, setSim] = useState<SimulationView | undefined>();
  const [shown, setShown] = useState<{ id: string; path: string[] } | undefined>();
  const singleAdmin = useSingleAdminDeploy();
  const editor = useRef<EditorHandle | undefined>(undefined);

  const load = useCallback(async () => {
    if (isNew || !props.id) return;
    try {
      const d = await api<DefinitionDetail>('GET', `/api/definitions/${encodeURIComponent(props.id)}`);
      setDetail(d);
      setDraft((cur) => cur ?? d.yaml ?? '');
    } catch (err) {
      setLoadError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    }
  }, [isNew, props.id]);
  useEffect(() => {
    void load();
  }, [load]);

  // Validate as you type (debounced).
  useEffect(() => {
    if (draft === undefined) return;
    const t = setTimeout(
      () => {
        const result = validateProcedureText(draft, `${props.id && !isNew ? props.id : 'draft'}.yaml`);
        setChecked({ text: draft, result });
        if (result.ir) setLastIr(result.ir);
      },
      checked ? 300 : 0,
    );
    return () => clearTimeout(t);
  }, [draft]);

  const pending = draft !== undefined && checked?.text !== draft;
  const current = checked?.result;
  const ir = current?.ir;
  const diagnostics = useMemo(() => {
    const local = current?.diagnostics ?? [];
    if (!server || server.text !== checked?.text) return local;
    const key = (d: Diagnostic): string => `${d.line}:${d.column}:${d.code}:${d.message}`;
    const seen = new Set(local.map(key));
    return [...local, ...server.diagnostics.filter((d) => !seen.has(key(d)))].sort(
      (a, b) => a.line - b.line || a.column - b.column,
    );
  }, [current, server, checked]);
  const hasErrors = diagnostics.some((d) => d.severity === 'error');
  const { outcome, running } = useVerification(ir);
  const violated =
    outcome && 'result' in outcome && outcome.ir === ir
      ? outcome.result.invariants.filter((r) => !r.holds)
      : [];

  const validateOnServer = async (): Promise<void> => {
    if (draft === undefined) return;
    setValidating(true);
    try {
      const r = await api<ServerValidation>('POST', '/api/definitions/validate', { yaml: draft });
      setServer({ text: draft, diagnostics: r.diagnostics });
    } catch (err) {
      setServer({
        text: draft,
        diagnostics: [
          {
            code: 'PROC_SCHEMA',
            severity: 'warning',
            message: `server validation unavailable: ${err instanceof Error ? err.message : String(err)}`,
            file: 'draft.yaml',
            line: 1,
            column: 1,
            pointer: '',
          },
        ],
      });
    } finally {
      setValidating(false);
    }
  };

  const jump = useCallback((line: number, column: number) => editor.current?.jumpTo(line, column), []);
  const onSimView = useCallback((v: SimulationView | undefined) => setSim(v), []);
  const deployedYaml = detail?.yaml;
  const unchanged = deployedYaml !== undefined && deployedYaml === draft;
  const disabledWhy = pending
    ? pick({ zh: '正在检查…', en: 'Checking…' })
    : hasErrors || !ir
      ? pick({ zh: '草稿有错误，不能部署', en: 'The draft has errors; it cannot be deployed' })
      : unchanged
        ? pick({ zh: '草稿与已部署版本相同', en: 'The draft is the same as the deployed version' })
        : undefined;

  if (loadError)
    return (
      <section className="admin">
        <p role="alert">
          {pick({ zh: '无法加载定义：', en: 'The definition could not be loaded: ' })}
          {loadError}
        </p>
        <button type="button" onClick={() => props.navigate('/definitions')}>
          {pick({ zh: '返回定义列表', en: 'Back to definitions' })}
        </button>
      </section>
    );

  const diagramIr = ir ?? lastIr;
  return (
    <section className="admin definition-editor">
      <header className="editor-head">
        <div>
          <button type="button" className="link" onClick={() => props.navigate('/definitions')}>
            ← {pick({ zh: '定义', en: 'Definitions' })}
          </button>
          <h1>
            {isNew ? pick({ zh: '新定义', en: 'New definition' }) : `${text(detail?.title) || props.id} `}
            {!isNew && detail && <span className="muted">v{detail.version}</span>}
          </h1>
          {ir && (
            <p className="muted">
              {pick({ zh: '草稿：', en: 'Draft: ' })}
              <code>{ir.id}</code> v{ir.version}
            </p>
          )}
        </div>
        <div className="editor-actions">
          <button
            type="button"
            onClick={() => void validateOnServer()}
            disabled={validating || draft === undefined}
          >
            {validating ? pick({ zh: '正在验证…', en: 'Validating…' }) : pick({ zh: '验证', en: 'Validate' })}
          </button>
          {deployedYaml !== undefined && (
            <button type="button" onClick={() => setDraft(deployedYaml)} disabled={unchanged}>
              {pick({ zh: '放弃修改', en: 'Discard changes' })}
            </button>
          )}
          <DeployControls
            yaml={draft ?? ''}
            id={ir?.id}
            version={ir?.version}
            disabled={disabledWhy !== undefined}
            disabledWhy={disabledWhy}
            singleAdmin={singleAdmin}
            onDeployed={() => {
              void load().then(() => setDetail((d) => (d ? { ...d, yaml: draft } : d)));
            }}
            onRefused={(diags) => draft !== undefined && setServer({ text: draft, diagnostics: diags })}
            navigate={props.navigate}
          />
        </div>
      </header>
      <SingleAdminBanner single={singleAdmin} />
      <div className="editor-grid">
        <section className="editor-pane" role="region" aria-label="Definition YAML">
          {draft === undefined ? (
            <p className="muted">{pick({ zh: '正在加载…', en: 'Loading…' })}</p>
          ) : (
            <YamlEditor value={draft} onChange={setDraft} diagnostics={diagnostics} jumpRef={editor} />
          )}
          <DiagnosticList diagnostics={diagnostics} onJump={jump} pending={pending} />
        </section>
        <section className="side-pane">
          <div role="tablist" aria-label={pick({ zh: '工具', en: 'Tools' })} className="tabs">
            {(
              [
                ['simulator', pick({ zh: '模拟', en: 'Simulator' })],
                [
                  'verification',
                  `${pick({ zh: '不变量', en: 'Invariants' })}${violated.length ? ` (${violated.length})` : ''}`,
                ],
                ['changes', pick({ zh: '差异', en: 'Changes' })],
              ] as [Tab, string][]
            ).map(([t, label]) => (
              <button
                key={t}
                type="button"
                role="tab"
                aria-selected={tab === t}
                className={tab === t ? 'active' : ''}
                onClick={() => setTab(t)}
              >
                {label}
              </button>
            ))}
          </div>
          <div role="tabpanel" className="tab-panel">
            {tab === 'simulator' &&
              (ir ? (
                <Simulator ir={ir} onView={onSimView} />
              ) : (
                <p className="muted">
                  {pick({
                    zh: '草稿有错误：修正后才能模拟。',
                    en: 'The draft has errors: fix them to simulate.',
                  })}
                </p>
              ))}
            {tab === 'verification' && (
              <VerificationPanel
                ir={ir}
                outcome={outcome}
                running={running}
                positions={current?.positions}
                shown={shown?.id}
                onShow={(id, path) => setShown(id ? { id, path } : undefined)}
                onJump={jump}
              />
            )}
            {tab === 'changes' && draft !== undefined && (
              <DiffView deployed={deployedYaml} draft={draft} version={detail?.version} />
            )}
          </div>
        </section>
      </div>
      <section
        className="editor-diagram"
        aria-label={pick({ zh: '草稿的状态图', en: 'Diagram of the draft' })}
      >
        {diagramIr ? (
          <>
            {!ir && (
              <p className="muted diagram-stale">
                {pick({
                  zh: '草稿有错误：显示的是最后一个有效版本。',
                  en: 'The draft has errors: showing the last valid version.',
                })}
              </p>
            )}
            <Diagram
              ir={diagramIr}
              {...(tab === 'simulator' && sim && ir
                ? { active: sim.active, visited: sim.visited, taken: sim.taken }
                : {})}
              {...(shown && tab === 'verification' ? { highlight: shown.path } : {})}
              height={600}
            />
          </>
        ) : (
          <p className="muted">
            {pick({ zh: '草稿有效后显示状态图。', en: 'The diagram appears when the draft is valid.' })}
          </p>
        )}
      </section>
      {detail && detail.versions.length > 0 && (
        <section className="versions">
          <h2>{pick({ zh: '已部署版本', en: 'Deployed versions' })}</h2>
          <VersionTable versions={detail.versions} />
        </section>
      )}
      {detail && detail.versions.length > 0 && (
        <MigrationPanel
          id={detail.id}
          current={detail.version}
          versions={[...new Set(detail.versions.map((v) => v.version))]}
        />
      )}
    </section>
  );
}

export function VersionTable(props: { versions: DefinitionDetail['versions'] }) {
  const { pick, dateTime } = useI18n();
  return (
    <table className="data-table">
      <thead>
        <tr>
          <th>{pick({ zh: '版本', en: 'Version' })}</th>
          <th>{pick({ zh: '哈希', en: 'Hash' })}</th>
          <th>{pick({ zh: '部署人', en: 'Deployed by' })}</th>
          <th>{pick({ zh: '部署时间', en: 'Deployed at' })}</th>
        </tr>
      </thead>
      <tbody>
        {props.versions.map((v) => (
          <tr key={`${v.version}:${v.hash}`}>
            <td>{v.version}</td>
            <td>
              <code title={v.hash}>{v.hash.slice(0, 12)}</code>
            </td>
            <td>{v.deployedBy}</td>
            <td>{dateTime(v.deployedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
