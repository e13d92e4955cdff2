/**
 * The files an event form attaches: one field per kind the event declares (`attachments:` of the
 * definition — a required one is marked, its accepted families named) and one for further files.
 * A file is uploaded as soon as it is chosen (the server judges its real type and size), then sent
 * with the event by its SHA-256. Refusals (too large, a refused type) show at the field.
 */
import { useEffect, useState } from 'react';
import type { ApiError } from '../../api.ts';
import { asApiError } from '../../api.ts';
import { useI18n, type Bilingual } from '../../i18n.tsx';
import type { AttachmentRequirement, FileFamily } from '../../../../workflows/core/attachments.ts';
import { fileSize, uploadFile, type FileChoice, type StoredFile } from './files.ts';
import './attachments.css';

const FAMILY: Record<FileFamily, Bilingual> = {
  pdf: { zh: 'PDF', en: 'PDF' },
  image: { zh: '图片', en: 'image' },
  office: { zh: 'Office 文档', en: 'office document' },
};

const ACCEPT: Record<FileFamily, string> = {
  pdf: 'application/pdf,.pdf',
  image: 'image/*',
  office: '.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods',
};

const UPLOAD_REFUSAL: Record<string, Bilingual> = {
  ATTACHMENT_TOO_LARGE: { zh: '文件超过大小上限', en: 'The file is larger than allowed' },
  ATTACHMENT_TYPE_REFUSED: {
    zh: '不接受此类文件（按文件内容判断）',
    en: 'This kind of file is not accepted (judged from its content)',
  },
  BAD_FILE_NAME: { zh: '文件名无效', en: 'The file name is not valid' },
  EMPTY_FILE: { zh: '文件为空', en: 'The file is empty' },
};

interface Slot {
  kind?: string;
  files: StoredFile[];
}

export function AttachmentPicker({
  workflowId,
  event,
  kinds,
  onChange,
}: {
  workflowId: string;
  event: string;
  kinds: Record<string, AttachmentRequirement>;
  onChange: (choices: FileChoice[]) => void;
}) {
  const { pick, text } = useI18n();
  const [slots, setSlots] = useState<Slot[]>(() => [
    ...Object.keys(kinds).map((kind) => ({ kind, files: [] })),
    { files: [] },
  ]);
  const [busy, setBusy] = useState<number | undefined>();
  const [error, setError] = useState<{ slot: number; error: ApiError } | undefined>();

  useEffect(() => {
    onChange(
      slots.flatMap((s) => s.files.map((f) => ({ sha256: f.sha256, ...(s.kind ? { kind: s.kind } : {}) }))),
    );
  }, [slots, onChange]);

  const add = async (slot: number, list: FileList | null): Promise<void> => {
    if (!list?.length) return;
    setBusy(slot);
    setError(undefined);
    try {
      for (const file of Array.from(list)) {
        const stored = await uploadFile(workflowId, file);
        setSlots((all) =>
          all.map((s, i) =>
            i === slot && !s.files.some((f) => f.sha256 === stored.sha256)
              ? { ...s, files: [...s.files, stored] }
              : s,
          ),
        );
      }
    } catch (err) {
      setError({ slot, error: asApiError(err) });
    } finally {
      setBusy(undefined);
    }
  };
  const remove = (slot: number, sha256: string): void =>
    setSlots((all) =>
      all.map((s, i) => (i === slot ? { ...s, files: s.files.filter((f) => f.sha256 !== sha256) } : s)),
    );

  const declared = Object.keys(kinds).length > 0;
  const fields = slots.map((s, i) => {
    const req = s.kind ? kinds[s.kind] : undefined;
    const id = `att-${event}-${s.kind ?? 'other'}`;
    const required = req !== undefined && req.required !== false;
    const families = req?.types;
    return (
      <div key={s.kind ?? '*'} className="attachment-slot" data-kind={s.kind ?? ''}>
        <label htmlFor={id}>
          {req ? text(req.title) : pick({ zh: '其他文件（可选）', en: 'Other files (optional)' })}
          {required && (
            <span className="required" title={pick({ zh: '必须附上', en: 'Required' })}>
              {' '}
              *
            </span>
          )}
          {families && (
            <span className="muted">
              {' '}
              ({families.map((f) => pick(FAMILY[f])).join(pick({ zh: '、', en: ', ' }))})
            </span>
          )}
        </label>
        <input
          id={id}
          type="file"
          multiple={!s.kind}
          disabled={busy !== undefined}
          {...(families ? { accept: families.map((f) => ACCEPT[f]).join(',') } : {})}
          onChange={(e) => {
            void add(i, e.currentTarget.files);
            e.currentTarget.value = '';
          }}
        />
        {busy === i && <span className="muted">{pick({ zh: '正在上传…', en: 'Uploading…' })}</span>}
        {s.files.length > 0 && (
          <ul className="attached-files">
            {s.files.map((f) => (
              <li key={f.sha256} data-sha256={f.sha256}>
                <span className="file-name">{f.name}</span>{' '}
                <span className="muted">
                  {fileSize(f.size)} · <span className="mono">{f.sha256.slice(0, 12)}…</span>
                </span>{' '}
                <button type="button" className="link" onClick={() => remove(i, f.sha256)}>
                  {pick({ zh: '移除', en: 'Remove' })}
                </button>
              </li>
            ))}
          </ul>
        )}
        {error?.slot === i && (
          <div className="rejection" role="alert" data-code={error.error.code}>
            <span className="code">{error.error.code}</span>{' '}
            {UPLOAD_REFUSAL[error.error.code] ? pick(UPLOAD_REFUSAL[error.error.code]!) : ''}
            <div className="error-detail">{error.error.problem.detail}</div>
          </div>
        )}
      </div>
    );
  });
  // An event that asks for no file keeps its form short: further files behind a disclosure.
  if (!declared)
    return (
      <details className="attachments-picker" data-event={event}>
        <summary>{pick({ zh: '附加文件（可选）', en: 'Attach files (optional)' })}</summary>
        {fields}
      </details>
    );
  return (
    <fieldset className="attachments-picker" data-event={event}>
      <legend>{pick({ zh: '附件', en: 'Attachments' })}</legend>
      {fields}
    </fieldset>
  );
}
