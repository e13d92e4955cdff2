/** Add a correction to a register row: one field's corrected value and the reason (the row itself never changes). */
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../../api.ts';
import { useI18n } from '../../i18n.tsx';
import { ErrorBox } from '../../components/common.tsx';
import type { FieldType, Json, Register, RegisterRow } from './types.ts';

/** The typed value of what was typed for a field, or undefined when it is none. */
function parse(type: FieldType, raw: string): Json | undefined {
  switch (type) {
    case 'integer':
    case 'number': {
      const n = Number(raw);
      return raw.trim() !== '' && Number.isFinite(n) ? n : undefined;
    }
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : undefined;
    case 'list':
      return raw
        .split(/[;,]/)
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

export function CorrectionForm({
  register,
  row,
  onDone,
}: {
  register: Register;
  row: RegisterRow;
  onDone: () => void;
}) {
  const { pick, text } = useI18n();
  const [field, setField] = useState(register.fields[0]?.name ?? '');
  const [value, setValue] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const spec = register.fields.find((f) => f.name === field);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (!spec) return;
    const typed = parse(spec.type, value);
    if (typed === undefined) {
      setError(
        new ApiError({
          status: 400,
          code: 'INVALID_VALUE',
          detail: pick({ zh: `请填写${spec.type}类型的值`, en: `enter a ${spec.type} value` }),
        }),
      );
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await api('POST', `/api/records/${encodeURIComponent(register.name)}/corrections`, {
        workflowId: row.workflowId,
        seq: row.seq,
        idx: row.idx,
        fields: { [field]: typed },
        reason,
      });
      onDone();
    } catch (err) {
      if (err instanceof ApiError) setError(err);
      else throw err;
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="correction-form"
      onSubmit={(e) => void submit(e)}
      aria-label={pick({ zh: '更正记录', en: 'Correct the row' })}
    >
      <label className="field">
        <span className="field-label">{pick({ zh: '字段', en: 'Field' })}</span>
        <select value={field} onChange={(e) => setField(e.target.value)}>
          {register.fields.map((f) => (
            <option key={f.name} value={f.name}>
              {text(f.title)}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span className="field-label">{pick({ zh: '更正后的值', en: 'Corrected value' })}</span>
        {spec?.type === 'boolean' ? (
          <select value={value} onChange={(e) => setValue(e.target.value)} required>
            <option value="" />
            <option value="true">{pick({ zh: '是', en: 'yes' })}</option>
            <option value="false">{pick({ zh: '否', en: 'no' })}</option>
          </select>
        ) : (
          <input
            value={value}
            type={
              spec?.type === 'date'
                ? 'date'
                : spec?.type === 'integer' || spec?.type === 'number'
                  ? 'number'
                  : 'text'
            }
            placeholder={spec?.type === 'list' ? pick({ zh: '以分号分隔', en: 'separated by ;' }) : ''}
            onChange={(e) => setValue(e.target.value)}
            required
          />
        )}
      </label>
      <label className="field grow">
        <span className="field-label">{pick({ zh: '更正原因', en: 'Reason' })}</span>
        <input value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={2000} />
      </label>
      <div className="filter-actions">
        <button type="submit" className="primary" disabled={busy}>
          {pick({ zh: '添加更正', en: 'Add correction' })}
        </button>
      </div>
      {error && <ErrorBox error={error} />}
    </form>
  );
}
