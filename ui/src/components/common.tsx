/** Small shared pieces: error boxes, role chips, state names, due dates, empty states. */
import { useEffect, type ReactNode } from 'react';
import type { ApiError } from '../api.ts';
import { useI18n, type Bilingual } from '../i18n.tsx';
import type { ProcedureIR, Text } from '../../../workflows/core/ir.ts';
import type { RejectionCode } from '../../../workflows/core/rejections.ts';
import { stateAt } from '../../../workflows/core/ir-walk.ts';
import { Link } from '../router.tsx';

/**
 * What each of the engine's refusals means, in both languages. Typed over the closed set of
 * rejection codes (`workflows/core/rejections.ts`): a new code does not compile until it has a text.
 */
export const REJECTION_TEXT: Record<RejectionCode, Bilingual> = {
  DUTY_CONFLICT: {
    zh: '职责分离：同一人不能担任此前的角色后再执行此操作',
    en: 'Separation of duties: you may not do this step',
  },
  ROLE_NOT_ALLOWED: { zh: '您的角色无权执行此操作', en: 'Your roles may not send this event' },
  GUARD_FALSE: { zh: '条件不满足', en: 'The condition for this step does not hold' },
  CANNOT_TAKE: { zh: '当前状态不接受此操作', en: 'The current state does not take this event' },
  INVALID_DATA: { zh: '填写的数据不符合要求', en: 'The data does not meet the form’s rules' },
  UNKNOWN_EVENT: { zh: '未知操作', en: 'Unknown event' },
  INSTANCE_FINISHED: { zh: '该实例已结束', en: 'This instance has finished' },
  BAD_ACTOR: { zh: '操作人信息无效', en: 'The event names no valid actor' },
  BAD_EVENT: { zh: '操作格式无效', en: 'The event is malformed' },
  NOT_ASSIGNEE: {
    zh: '此任务已分派给他人（或须先认领），只有被分派人可以执行',
    en: 'This task is assigned to someone else (or must be claimed first); only the assignee may act',
  },
  ASSIGNMENT_CONFLICT: { zh: '此任务已被他人认领', en: 'Someone else already holds this task' },
  ASSIGNMENT_NOT_ALLOWED: { zh: '您不能进行此项分派', en: 'You may not make this assignment' },
  ASSIGNEE_NOT_QUALIFIED: {
    zh: '被分派人没有此任务所需的角色（或不能查看该客户）',
    en: 'The assignee lacks a role this task awaits (or may not see its client)',
  },
  BAD_ASSIGNMENT: { zh: '分派请求无效（请指明状态）', en: 'The assignment is malformed (name the state)' },
  BAD_ATTACHMENT: {
    zh: '附件无效：类别或文件类型不符，或记录库中没有此实例的该文件',
    en: 'An attachment was refused: wrong kind or file type, or not a file the records store holds for this instance',
  },
  ATTACHMENT_REQUIRED: {
    zh: '此操作须附上规定的文件（如客户书面同意书）',
    en: 'This event needs the required file attached (e.g. the client’s signed consent letter)',
  },
};

/** What the engine's and the API's codes mean, in both languages (the server's detail follows). */
export const CODE_TEXT: Record<string, Bilingual> = {
  ...REJECTION_TEXT,
  INVALID_INPUT: { zh: '发起信息不符合要求', en: 'The start input was refused' },
  ASSIGNEE_UNKNOWN: { zh: '用户目录中没有此人', en: 'No such user in the directory' },
  ASSIGNEE_DISABLED: { zh: '此用户已停用，不能接受任务', en: 'This user is disabled and can take no task' },
  CLIENT_NOT_ASSIGNED: { zh: '您未被分配到该客户', en: 'You are not assigned to this client' },
  NOT_FOUND: { zh: '找不到（或无权查看）', en: 'Not found (or not visible to you)' },
  UNAVAILABLE: {
    zh: '工作流服务暂时不可用，请稍后重试',
    en: 'The workflow service is unavailable; try again shortly',
  },
  NETWORK: { zh: '无法连接服务器', en: 'The server cannot be reached' },
  CSRF: { zh: '会话校验失败，请刷新页面', en: 'Session check failed; reload the page' },
};

export function ErrorBox({ error, title }: { error: ApiError; title?: string }) {
  const { pick } = useI18n();
  const known = CODE_TEXT[error.code];
  // A 401 is answered by the sign-in dialog, not by the page.
  if (error.status === 401) return null;
  return (
    <div className="error-box" role="alert" data-code={error.code}>
      {title && <strong>{title} </strong>}
      <span className="code">{error.code}</span>
      {known && <span className="error-summary"> {pick(known)}</span>}
      {error.problem.detail && <div className="error-detail">{error.problem.detail}</div>}
    </div>
  );
}

/** A bilingual JSON-Schema title: `"文件编号 / File id"`, a `{zh, en}` object, or a plain string. */
export function splitTitle(title: unknown): Text | undefined {
  if (title && typeof title === 'object') {
    const t = title as Partial<Text>;
    if (typeof t.zh === 'string' || typeof t.en === 'string')
      return { zh: t.zh ?? t.en ?? '', en: t.en ?? t.zh ?? '' };
  }
  if (typeof title !== 'string' || !title) return undefined;
  // "文件编号 / File id", "使用期限（天）/ Access window (days)": Chinese first, then English.
  const m = /^(.*?[\u3000-\u9fff\uff00-\uffef][^/]*?)\s*\/\s+(.+)$/.exec(title);
  if (!m) return { zh: title, en: title };
  return { zh: (m[1] ?? '').trim(), en: (m[2] ?? '').trim() };
}

export function RoleChips({
  roles,
  mine = [],
  names,
}: {
  roles: readonly string[];
  mine?: readonly string[];
  names?: Map<string, Text> | Record<string, Text>;
}) {
  const { text } = useI18n();
  const nameOf = (r: string): string => {
    const t = names instanceof Map ? names.get(r) : names?.[r];
    return t ? text(t) : r;
  };
  if (!roles.length) return <span className="muted">—</span>;
  return (
    <span className="chips">
      {roles.map((r) => (
        <span
          key={r}
          className={mine.includes(r) ? 'chip chip-mine' : 'chip'}
          title={r}
          data-mine={mine.includes(r) ? 'true' : undefined}
        >
          {nameOf(r)}
        </span>
      ))}
    </span>
  );
}

/** The title of a state path in this IR, else the path itself. */
export function useStateName(): (ir: ProcedureIR | undefined, path: string) => string {
  const { text } = useI18n();
  return (ir, path) => {
    const s = stateAt(ir, path);
    return s ? text(s.title) : path;
  };
}

export function StateNames({ ir, states }: { ir: ProcedureIR | undefined; states: readonly string[] }) {
  const name = useStateName();
  if (!states.length) return <span className="muted">—</span>;
  return (
    <span className="state-names">
      {states.map((s) => (
        <span key={s} className="state-pill" title={s}>
          {name(ir, s)}
        </span>
      ))}
    </span>
  );
}

/** A due time, red when overdue, with how long ago / how soon. */
export function Due({
  dueAt,
  overdue,
  now = Date.now(),
}: {
  dueAt?: string;
  overdue?: boolean;
  now?: number;
}) {
  const { pick, shortDateTime, duration } = useI18n();
  if (!dueAt) return <span className="muted">—</span>;
  const ms = Date.parse(dueAt) - now;
  const late = overdue ?? ms < 0;
  return (
    <span className={late ? 'due overdue' : 'due'} title={dueAt}>
      {shortDateTime(dueAt)}
      <span className="due-rel">
        {late
          ? pick({ zh: `逾期 ${duration(-ms)}`, en: `overdue ${duration(-ms)}` })
          : pick({ zh: `剩余 ${duration(ms)}`, en: `in ${duration(ms)}` })}
      </span>
    </span>
  );
}

export function Since({ at, now = Date.now() }: { at?: string; now?: number }) {
  const { pick, shortDateTime, duration } = useI18n();
  if (!at) return <span className="muted">—</span>;
  return (
    <span title={at} className="due">
      {shortDateTime(at)}
      <span className="due-rel">
        {pick({ zh: `${duration(now - Date.parse(at))}前`, en: `${duration(now - Date.parse(at))} ago` })}
      </span>
    </span>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** The window's title: "<page> · Custodia". */
export function useDocumentTitle(title: string | undefined): void {
  useEffect(() => {
    document.title = title ? `${title} · Custodia` : 'Custodia';
  }, [title]);
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  useDocumentTitle(title);
  return (
    <div className="page-header">
      <h1>{title}</h1>
      {children && <div className="page-actions">{children}</div>}
    </div>
  );
}

/**
 * The client filter of a form: a choice among the user's clients, or a free text field for a user
 * who sees every client (whose client list is empty). `all`: offer "All" (an empty value).
 */
export function ClientField({
  value,
  onChange,
  clients,
  all = true,
  name,
  required,
}: {
  value: string;
  onChange: (client: string) => void;
  clients: readonly string[];
  all?: boolean;
  name?: string;
  required?: boolean;
}) {
  const { pick } = useI18n();
  return (
    <label className="field">
      <span className="field-label">{pick({ zh: '客户', en: 'Client' })}</span>
      {clients.length ? (
        <select value={value} onChange={(e) => onChange(e.target.value)}>
          {all && <option value="">{pick({ zh: '全部', en: 'All' })}</option>}
          {clients.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      ) : (
        <input name={name} required={required} value={value} onChange={(e) => onChange(e.target.value)} />
      )}
    </label>
  );
}

/** A list row's first cell: the procedure title linking to the instance, its id (and status if not running). */
export function InstanceCell({
  workflowId,
  title,
  status,
}: {
  workflowId: string;
  title: string;
  status?: string;
}) {
  return (
    <>
      <Link to={`/instances/${encodeURIComponent(workflowId)}`} className="cell-title">
        {title}
      </Link>
      <div className="cell-sub mono">
        {workflowId}
        {status && status !== 'RUNNING' && <span className="badge badge-done">{status.toLowerCase()}</span>}
      </div>
    </>
  );
}
