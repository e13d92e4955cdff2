/**
 * The files of an instance, on its page: name, type, size, SHA-256, who uploaded it and when, the
 * event that attached it (from the timeline), and a download link — every download is recorded in
 * the audit chain, which the panel says.
 */
import type { ProcedureIR } from '../../../../workflows/core/ir.ts';
import { attachmentsOf } from '../../../../workflows/core/attachments.ts';
import { useApi } from '../../data.tsx';
import { useI18n } from '../../i18n.tsx';
import type { TransitionRecord } from '../../types.ts';
import { downloadHref, fileSize, listFiles } from './files.ts';

export function AttachmentsPanel({
  workflowId,
  log,
  ir,
  version,
}: {
  workflowId: string;
  log: TransitionRecord[];
  ir: ProcedureIR | undefined;
  /** Changes when the instance does (the list is read again). */
  version: number;
}) {
  const { pick, text, shortDateTime } = useI18n();
  const files = useApi(`attachments:${workflowId}:${version}`, (signal) => listFiles(workflowId, signal));
  const list = files.data?.attachments ?? [];
  const attachedBy = new Map<string, { event: string; seq: number; kind?: string }[]>();
  for (const r of log)
    for (const ref of attachmentsOf(r.data))
      attachedBy.set(ref.sha256, [
        ...(attachedBy.get(ref.sha256) ?? []),
        { event: r.event, seq: r.seq, ...(ref.kind ? { kind: ref.kind } : {}) },
      ]);
  if (!list.length) return null;
  return (
    <div className="card attachments-panel" aria-labelledby="attachments">
      <h2 id="attachments">
        {pick({ zh: '附件', en: 'Attachments' })} <span className="count">{list.length}</span>
      </h2>
      <p className="muted">
        {pick({
          zh: '每次下载都会记入审核记录（何人、何时、哪个文件）。',
          en: 'Every download is recorded in the audit trail (who, when, which file).',
        })}
      </p>
      <ul className="attachment-list">
        {list.map((f) => {
          const events = attachedBy.get(f.sha256) ?? [];
          return (
            <li key={f.sha256} data-sha256={f.sha256}>
              <a href={downloadHref(workflowId, f.sha256)} download={f.name}>
                {f.name}
              </a>{' '}
              <span className="muted">
                {fileSize(f.size)} · {f.type.split('/')[1]} · {f.uploadedBy} · {shortDateTime(f.uploadedAt)}
              </span>
              <div className="mono muted sha">{f.sha256}</div>
              <div className="cell-sub">
                {events.length
                  ? events.map((e) => (
                      <a key={e.seq} href={`#transition-${e.seq}`}>
                        #{e.seq} {ir?.events[e.event] ? text(ir.events[e.event]?.title) : e.event}
                        {e.kind && ir?.events[e.event]?.attachments?.[e.kind]
                          ? ` — ${text(ir.events[e.event]!.attachments![e.kind]!.title)}`
                          : ''}
                      </a>
                    ))
                  : pick({ zh: '尚未随任何操作提交', en: 'Not yet attached to an event' })}
              </div>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** A timeline row's attached files: names linking to their download, hashes on hover. */
export function AttachedFiles({ workflowId, data }: { workflowId: string; data: unknown }) {
  const { pick } = useI18n();
  return (
    <div className="attached-files-row">
      <dt>{pick({ zh: '附件', en: 'Attachments' })}</dt>
      <dd>
        {attachmentsOf(data).map((f, i) => (
          <span key={f.sha256}>
            {i > 0 && ', '}
            <a href={downloadHref(workflowId, f.sha256)} download={f.name} title={`SHA-256 ${f.sha256}`}>
              {f.name}
            </a>
          </span>
        ))}
      </dd>
    </div>
  );
}
