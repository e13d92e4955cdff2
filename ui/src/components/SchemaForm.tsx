/**
 * A form generated from a JSON Schema (an object schema: event data, or a procedure's start
 * input), validated with ajv in the browser as the user types. Supports string (text, long text,
 * date, date-time), enum (any scalar type), boolean, number, integer, arrays of strings (free list
 * or a set of enum values), `const` (shown, sent as is) and, for anything else, JSON text.
 * What the user typed stays when the server refuses the submission.
 */
import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Json, JsonSchema, Text } from '../../../workflows/core/ir.ts';
import { linearRegExp } from '../../../workflows/core/safe-regex.ts';
import { useI18n, type Lang } from '../i18n.tsx';
import { splitTitle } from './common.tsx';

type Raw = string | boolean | string[];

// Patterns on RE2, as the engine checks them: a definition's `^(a+)+$` cannot freeze the tab.
const ajv = new Ajv2020({
  strict: false,
  allErrors: true,
  validateFormats: false,
  validateSchema: false,
  code: { regExp: linearRegExp },
});
const compiled = new Map<string, ValidateFunction>();
function validatorOf(schema: JsonSchema): ValidateFunction {
  const key = JSON.stringify(schema);
  let v = compiled.get(key);
  if (!v) compiled.set(key, (v = ajv.compile(schema)));
  return v;
}

interface Prop {
  name: string;
  schema: JsonSchema;
  required: boolean;
}

function typeOf(s: JsonSchema): string | undefined {
  const t = s.type;
  if (Array.isArray(t)) return t.find((x) => x !== 'null') as string | undefined;
  return typeof t === 'string' ? t : undefined;
}

function propsOf(schema: JsonSchema, requiredFirst: boolean): Prop[] {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema | boolean>;
  const order = (schema.required ?? []) as string[];
  const required = new Set(order);
  const out = Object.entries(props)
    .filter((e): e is [string, JsonSchema] => typeof e[1] === 'object' && e[1] !== null)
    .map(([name, s]) => ({ name, schema: s, required: required.has(name) }));
  if (!requiredFirst) return out;
  const rank = (p: Prop): number => (p.required ? order.indexOf(p.name) : order.length);
  return out
    .map((p, i) => ({ p, i }))
    .sort((a, b) => rank(a.p) - rank(b.p) || a.i - b.i)
    .map((x) => x.p);
}

function initialRaw(p: Prop, initial: Record<string, Json> | undefined): Raw {
  const v = initial?.[p.name] ?? (p.schema.default as Json | undefined);
  const t = typeOf(p.schema);
  const en = p.schema.enum as Json[] | undefined;
  if (t === 'boolean') return v === true;
  if (t === 'array') {
    const items = (p.schema.items ?? {}) as JsonSchema;
    if (Array.isArray(items.enum)) return Array.isArray(v) ? v.map((x) => String(x)) : [];
    return Array.isArray(v) ? v.map((x) => String(x)).join('\n') : '';
  }
  if (en) {
    const i = v === undefined ? -1 : en.findIndex((x) => JSON.stringify(x) === JSON.stringify(v));
    return i < 0 ? '' : String(en[i]);
  }
  if (v === undefined || v === null) return '';
  if (t === 'object') return JSON.stringify(v, null, 2);
  if (p.schema.format === 'date-time' && typeof v === 'string') return toLocalInput(v);
  return String(v);
}

function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The raw input of one field as its JSON value; undefined: leave the field out. */
function valueOf(p: Prop, raw: Raw): Json | undefined {
  const s = p.schema;
  const t = typeOf(s);
  if (s.const !== undefined) return s.const as Json;
  if (t === 'boolean') return raw === true ? true : p.required ? false : undefined;
  if (Array.isArray(raw)) return raw.length || p.required ? raw : undefined;
  const text = String(raw);
  // Options carry String(value) (what a browser test reads back); map it to the enum's value.
  if (Array.isArray(s.enum))
    return text === '' ? undefined : (s.enum as Json[]).find((x) => String(x) === text);
  if (t === 'array') {
    const list = text
      .split('\n')
      .map((x) => x.trim())
      .filter(Boolean);
    return list.length || p.required ? list : undefined;
  }
  if (text.trim() === '') return undefined;
  if (t === 'number' || t === 'integer') {
    const n = Number(text);
    return Number.isNaN(n) ? text : n;
  }
  if (t === 'object') {
    try {
      return JSON.parse(text) as Json;
    } catch {
      return text;
    }
  }
  if (s.format === 'date-time') {
    const d = new Date(text);
    return Number.isNaN(d.getTime()) ? text : d.toISOString();
  }
  return text;
}

function fieldOfError(e: ErrorObject): string {
  if (e.keyword === 'required' && e.instancePath === '')
    return String((e.params as { missingProperty?: string }).missingProperty ?? '');
  if (e.keyword === 'additionalProperties' && e.instancePath === '')
    return String((e.params as { additionalProperty?: string }).additionalProperty ?? '');
  const m = /^\/([^/]+)/.exec(e.instancePath);
  return m?.[1]?.replace(/~1/g, '/').replace(/~0/g, '~') ?? '';
}

function messageOf(e: ErrorObject, lang: Lang): string {
  const p = e.params as Record<string, unknown>;
  const zh = lang === 'zh';
  switch (e.keyword) {
    case 'required':
      return zh ? '必填' : 'Required';
    case 'minLength':
      return p.limit === 1
        ? zh
          ? '必填'
          : 'Required'
        : zh
          ? `至少 ${String(p.limit)} 个字符`
          : `At least ${String(p.limit)} characters`;
    case 'maxLength':
      return zh ? `最多 ${String(p.limit)} 个字符` : `At most ${String(p.limit)} characters`;
    case 'minimum':
      return zh ? `不能小于 ${String(p.limit)}` : `Must be at least ${String(p.limit)}`;
    case 'maximum':
      return zh ? `不能大于 ${String(p.limit)}` : `Must be at most ${String(p.limit)}`;
    case 'exclusiveMinimum':
      return zh ? `必须大于 ${String(p.limit)}` : `Must be more than ${String(p.limit)}`;
    case 'exclusiveMaximum':
      return zh ? `必须小于 ${String(p.limit)}` : `Must be less than ${String(p.limit)}`;
    case 'type':
      return p.type === 'integer'
        ? zh
          ? '请输入整数'
          : 'Enter a whole number'
        : p.type === 'number'
          ? zh
            ? '请输入数字'
            : 'Enter a number'
          : zh
            ? `类型应为 ${String(p.type)}`
            : `Must be ${String(p.type)}`;
    case 'enum':
      return zh ? '请从列表中选择' : 'Choose one of the listed values';
    case 'const':
      return zh ? `必须为 ${JSON.stringify(p.allowedValue)}` : `Must be ${JSON.stringify(p.allowedValue)}`;
    case 'pattern':
      return zh ? '格式不正确' : 'Wrong format';
    case 'minItems':
      return zh ? `至少 ${String(p.limit)} 项` : `At least ${String(p.limit)} item(s)`;
    case 'maxItems':
      return zh ? `最多 ${String(p.limit)} 项` : `At most ${String(p.limit)} item(s)`;
    case 'additionalProperties':
      return zh ? '此情况下不应填写' : 'Leave this empty here';
    case 'false schema':
      return zh ? '此情况下不应填写' : 'Leave this empty here';
    default:
      return e.message ?? e.keyword;
  }
}

export interface SchemaFormProps {
  schema: JsonSchema;
  /** Unique per form on the page: the ids of its inputs. */
  idPrefix: string;
  submitLabel: string;
  /** Fields shown by default; the rest fold under "More fields" (all shown when absent). */
  primary?: (p: { name: string; required: boolean }) => boolean;
  initial?: Record<string, Json>;
  busy?: boolean;
  /** Send the data (validated); throwing keeps the form as it is. */
  onSubmit: (data: Record<string, Json>) => void | Promise<void>;
  /** Shown between the fields and the button (e.g. the server's refusal). */
  children?: ReactNode;
  /** Field titles when the schema has none (e.g. context field titles). */
  titles?: Record<string, Text>;
  submitClass?: string;
  /**
   * Required fields first, in the order of `required` (for schemas whose property order was lost,
   * e.g. an IR read back from the store's JSON).
   */
  requiredFirst?: boolean;
}

export function SchemaForm(props: SchemaFormProps) {
  const { schema, idPrefix, submitLabel, busy } = props;
  const { lang, pick } = useI18n();
  const fields = useMemo(() => propsOf(schema, props.requiredFirst ?? false), [schema, props.requiredFirst]);
  const [raw, setRaw] = useState<Record<string, Raw>>(() =>
    Object.fromEntries(fields.map((p) => [p.name, initialRaw(p, props.initial)])),
  );
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [submitted, setSubmitted] = useState(false);
  const validate = useMemo(() => validatorOf(schema), [schema]);

  const data: Record<string, Json> = {};
  for (const p of fields) {
    const v = valueOf(p, raw[p.name] ?? '');
    if (v !== undefined) data[p.name] = v;
  }
  const valid = validate(data) === true;
  const errors = new Map<string, string>();
  const formErrors: string[] = [];
  for (const e of valid ? [] : (validate.errors ?? [])) {
    if (e.keyword === 'if') continue;
    const f = fieldOfError(e);
    if (f && fields.some((p) => p.name === f)) {
      if (!errors.has(f)) errors.set(f, messageOf(e, lang));
    } else formErrors.push(messageOf(e, lang));
  }

  const set = (name: string, v: Raw): void => {
    setRaw((r) => ({ ...r, [name]: v }));
    setTouched((t) => ({ ...t, [name]: true }));
  };

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setSubmitted(true);
    if (!valid) return;
    await props.onSubmit(data);
  };

  const shown = props.primary ? fields.filter((p) => props.primary?.(p)) : fields;
  const folded = props.primary ? fields.filter((p) => !props.primary?.(p)) : [];
  const render = (p: Prop): ReactNode => (
    <Field
      key={p.name}
      prop={p}
      id={`${idPrefix}-${p.name}`}
      raw={raw[p.name] ?? ''}
      error={touched[p.name] || submitted ? errors.get(p.name) : undefined}
      onChange={(v) => set(p.name, v)}
      fallbackTitle={props.titles?.[p.name]}
    />
  );

  return (
    <form className="schema-form" onSubmit={(e) => void submit(e)} noValidate>
      {fields.length > 0 && <div className="fields">{shown.map(render)}</div>}
      {folded.length > 0 && (
        <details className="more-fields">
          <summary>
            {pick({ zh: `更多字段（${folded.length}）`, en: `More fields (${folded.length})` })}
          </summary>
          <div className="fields">{folded.map(render)}</div>
        </details>
      )}
      {submitted && formErrors.length > 0 && (
        <ul className="form-errors">
          {formErrors.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      )}
      {props.children}
      <div className="form-actions">
        <button type="submit" className={props.submitClass ?? 'primary'} disabled={busy} aria-busy={busy}>
          {submitLabel}
        </button>
        {submitted && !valid && (
          <span className="form-invalid" role="status">
            {pick({ zh: '请先更正标出的字段。', en: 'Correct the marked fields first.' })}
          </span>
        )}
      </div>
    </form>
  );
}

function Field({
  prop,
  id,
  raw,
  error,
  onChange,
  fallbackTitle,
}: {
  prop: Prop;
  id: string;
  raw: Raw;
  error: string | undefined;
  onChange: (v: Raw) => void;
  fallbackTitle: Text | undefined;
}) {
  const { pick, text } = useI18n();
  const s = prop.schema;
  const t = typeOf(s);
  const title = splitTitle(s.title) ?? fallbackTitle;
  const label = title ? text(title) : prop.name;
  const desc = splitTitle(s.description);
  const hintId = desc ? `${id}-hint` : undefined;
  const errId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errId].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: prop.name,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
    'aria-required': prop.required || undefined,
  } as const;
  const labelEl = (
    <label htmlFor={id} className="field-label">
      {label}
      {prop.required && (
        <span className="req" aria-hidden="true">
          {' '}
          *
        </span>
      )}
    </label>
  );
  const tail = (
    <>
      {desc && (
        <span className="hint" id={hintId}>
          {text(desc)}
        </span>
      )}
      {error && (
        <span className="field-error" id={errId}>
          {error}
        </span>
      )}
    </>
  );

  if (s.const !== undefined)
    return (
      <div className="field">
        {labelEl}
        <input {...common} readOnly value={JSON.stringify(s.const)} />
        {tail}
      </div>
    );

  if (t === 'boolean')
    return (
      <div className="field field-check">
        <label className="check">
          <input
            {...common}
            type="checkbox"
            checked={raw === true}
            onChange={(e) => onChange(e.target.checked)}
          />
          <span>
            {label}
            {prop.required && (
              <span className="req" aria-hidden="true">
                {' '}
                *
              </span>
            )}
          </span>
        </label>
        {tail}
      </div>
    );

  if (t === 'array') {
    const items = (s.items ?? {}) as JsonSchema;
    if (Array.isArray(items.enum)) {
      const list = Array.isArray(raw) ? raw : [];
      return (
        <fieldset className="field" aria-describedby={describedBy}>
          <legend className="field-label">
            {label}
            {prop.required && (
              <span className="req" aria-hidden="true">
                {' '}
                *
              </span>
            )}
          </legend>
          <div className="check-group">
            {(items.enum as Json[]).map((v) => {
              const key = String(v);
              return (
                <label key={key} className="check">
                  <input
                    type="checkbox"
                    checked={list.includes(key)}
                    onChange={(e) =>
                      onChange(e.target.checked ? [...list, key] : list.filter((x) => x !== key))
                    }
                  />
                  <span>{key}</span>
                </label>
              );
            })}
          </div>
          {tail}
        </fieldset>
      );
    }
    return (
      <div className="field">
        {labelEl}
        <textarea {...common} rows={3} value={String(raw)} onChange={(e) => onChange(e.target.value)} />
        <span className="hint">{pick({ zh: '每行一项', en: 'One item per line' })}</span>
        {tail}
      </div>
    );
  }

  if (Array.isArray(s.enum))
    return (
      <div className="field">
        {labelEl}
        <select {...common} value={String(raw)} onChange={(e) => onChange(e.target.value)}>
          <option value="">{pick({ zh: '— 请选择 —', en: '— choose —' })}</option>
          {(s.enum as Json[]).map((v, i) => (
            <option key={i} value={String(v)}>
              {String(v)}
            </option>
          ))}
        </select>
        {tail}
      </div>
    );

  if (t === 'number' || t === 'integer')
    return (
      <div className="field">
        {labelEl}
        <input
          {...common}
          type="number"
          inputMode={t === 'integer' ? 'numeric' : 'decimal'}
          step={t === 'integer' ? 1 : 'any'}
          min={typeof s.minimum === 'number' ? s.minimum : undefined}
          max={typeof s.maximum === 'number' ? s.maximum : undefined}
          value={String(raw)}
          onChange={(e) => onChange(e.target.value)}
        />
        {tail}
      </div>
    );

  if (t === 'object' || (t !== 'string' && t !== undefined))
    return (
      <div className="field">
        {labelEl}
        <textarea
          {...common}
          rows={4}
          className="mono"
          value={String(raw)}
          onChange={(e) => onChange(e.target.value)}
        />
        <span className="hint">JSON</span>
        {tail}
      </div>
    );

  const long = typeof s.maxLength === 'number' ? s.maxLength > 200 : !s.format;
  if (s.format === 'date-time' || s.format === 'date')
    return (
      <div className="field">
        {labelEl}
        <input
          {...common}
          type={s.format === 'date' ? 'date' : 'datetime-local'}
          value={String(raw)}
          onChange={(e) => onChange(e.target.value)}
        />
        {tail}
      </div>
    );
  return (
    <div className={long && (s.maxLength as number) > 200 ? 'field field-wide' : 'field'}>
      {labelEl}
      {long && (s.maxLength as number) > 200 ? (
        <textarea {...common} rows={3} value={String(raw)} onChange={(e) => onChange(e.target.value)} />
      ) : (
        <input
          {...common}
          type={s.format === 'email' ? 'email' : 'text'}
          maxLength={typeof s.maxLength === 'number' ? s.maxLength : undefined}
          value={String(raw)}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
      {tail}
    </div>
  );
}
