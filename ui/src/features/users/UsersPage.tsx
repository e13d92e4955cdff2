/**
 * `/users` (administrators): the directory — who, which roles (by title), which clients, enabled
 * or not — and every change: create (the answer is a one-time link where the new user sets a
 * password), edit name/roles/clients, disable/enable, issue a password-reset link. The server
 * audits each change with its values before and after and refuses what breaks a rule (yourself,
 * the last administrator); the refusal is shown as it came.
 */
import { useState } from 'react';
import { api, asApiError, type ApiError } from '../../api.ts';
import { ErrorBox, PageHeader, useDocumentTitle } from '../../components/common.tsx';
import { useApi } from '../../data.tsx';
import { useI18n } from '../../i18n.tsx';
import { useUser } from '../../session.tsx';
import { forgetUserNames } from './names.tsx';
import type { DirectoryUser, PasswordLink, RoleOption } from './types.ts';
import { UserForm, type UserValues } from './UserForm.tsx';
import './people.css';

interface Directory {
  users: DirectoryUser[];
  roles: RoleOption[];
  allClientRoles: string[];
}

function loadDirectory(signal: AbortSignal): Promise<Directory> {
  return Promise.all([
    api<{ users: DirectoryUser[]; allClientRoles: string[] }>('GET', '/api/users', undefined, { signal }),
    api<{ roles: RoleOption[] }>('GET', '/api/roles', undefined, { signal }),
  ]).then(([u, r]) => ({ users: u.users, roles: r.roles, allClientRoles: u.allClientRoles }));
}

export function UsersPage() {
  const { pick, text, dateTime } = useI18n();
  const me = useUser();
  const dir = useApi('users', loadDirectory);
  const [editing, setEditing] = useState<string | 'new' | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [link, setLink] = useState<{ user: DirectoryUser; link: PasswordLink } | undefined>();
  useDocumentTitle(pick({ zh: '用户', en: 'Users' }));

  const roles = dir.data?.roles ?? [];
  const roleTitle = (id: string): string => {
    const r = roles.find((x) => x.id === id);
    return r ? text(r.title) : id;
  };
  const allClient = dir.data?.allClientRoles ?? [];

  const act = async (fn: () => Promise<void>): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      forgetUserNames();
      dir.reload();
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };
  const create = (v: UserValues): Promise<void> =>
    act(async () => {
      const r = await api<{ user: DirectoryUser; passwordLink: PasswordLink }>('POST', '/api/users', v);
      setLink({ user: r.user, link: r.passwordLink });
      setEditing(undefined);
    });
  const save = (u: DirectoryUser, v: UserValues): Promise<void> =>
    act(async () => {
      const { id: _id, ...patch } = v;
      await api('PATCH', `/api/users/${encodeURIComponent(u.id)}`, patch);
      setEditing(undefined);
    });
  const setDisabled = (u: DirectoryUser, disabled: boolean): Promise<void> =>
    act(async () => {
      await api('PATCH', `/api/users/${encodeURIComponent(u.id)}`, { disabled });
    });
  const resetLink = (u: DirectoryUser): Promise<void> =>
    act(async () => {
      const l = await api<PasswordLink>('POST', `/api/users/${encodeURIComponent(u.id)}/password-reset`);
      setLink({ user: u, link: l });
    });

  const editingUser = dir.data?.users.find((u) => u.id === editing);
  return (
    <section className="page">
      <PageHeader title={pick({ zh: '用户', en: 'Users' })}>
        <button
          type="button"
          className="primary"
          onClick={() => setEditing('new')}
          disabled={editing === 'new'}
        >
          {pick({ zh: '新建用户', en: 'New user' })}
        </button>
      </PageHeader>
      <p className="lede">
        {pick({ zh: '可见所有客户的角色（由设置 ', en: 'Roles that see every client (setting ' })}
        <code>CUSTODIA_ALL_CLIENT_ROLES</code>
        {pick({ zh: ' 决定）：', en: '): ' })}
        <span data-testid="all-client-roles">
          {allClient.length ? allClient.map(roleTitle).join(', ') : pick({ zh: '无', en: 'none' })}
        </span>
        {pick({
          zh: '。其他用户只能看到分配给他们的客户。',
          en: '. Everyone else sees only the clients assigned to them.',
        })}
      </p>
      {dir.error && <ErrorBox error={dir.error} />}
      {error && <ErrorBox error={error} />}
      {link && (
        <div
          className="card password-link"
          role="status"
          aria-label={pick({ zh: '一次性链接', en: 'One-time link' })}
        >
          <p>
            {pick({
              zh: `请把此一次性链接交给 ${link.user.displayName}（${link.user.id}），用于设置密码；有效期至 ${dateTime(link.link.expiresAt)}。您不会看到密码。`,
              en: `Give this one-time link to ${link.user.displayName} (${link.user.id}) to set a password; it works until ${dateTime(link.link.expiresAt)}. You never see the password.`,
            })}
          </p>
          <input
            readOnly
            className="mono"
            aria-label={pick({ zh: '设置密码链接', en: 'Set-password link' })}
            value={window.location.origin + link.link.path}
            onFocus={(e) => e.currentTarget.select()}
          />
          <button type="button" className="small" onClick={() => setLink(undefined)}>
            {pick({ zh: '完成', en: 'Done' })}
          </button>
        </div>
      )}
      {editing === 'new' && (
        <UserForm
          roles={roles}
          busy={busy}
          onSubmit={(v) => void create(v)}
          onCancel={() => setEditing(undefined)}
        />
      )}
      {editingUser && (
        <UserForm
          key={editingUser.id}
          user={editingUser}
          roles={roles}
          busy={busy}
          onSubmit={(v) => void save(editingUser, v)}
          onCancel={() => setEditing(undefined)}
        />
      )}
      {dir.data && (
        <div className="table-wrap">
          <table className="grid" aria-label={pick({ zh: '用户列表', en: 'Users' })}>
            <thead>
              <tr>
                <th scope="col">{pick({ zh: '用户', en: 'User' })}</th>
                <th scope="col">{pick({ zh: '角色', en: 'Roles' })}</th>
                <th scope="col">{pick({ zh: '客户', en: 'Clients' })}</th>
                <th scope="col">{pick({ zh: '状态', en: 'Status' })}</th>
                <th scope="col">
                  <span className="sr-only">{pick({ zh: '操作', en: 'Actions' })}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {dir.data.users.map((u) => (
                <tr key={u.id} data-user-id={u.id} className={u.disabled ? 'row-disabled' : ''}>
                  <td>
                    <div className="cell-title">{u.displayName}</div>
                    <div className="cell-sub mono">{u.id}</div>
                  </td>
                  <td>{u.roles.map(roleTitle).join(', ')}</td>
                  <td>
                    {u.roles.some((r) => allClient.includes(r))
                      ? pick({ zh: '所有客户', en: 'every client' })
                      : u.clients.join(', ') || <span className="muted">—</span>}
                  </td>
                  <td>
                    {u.disabled ? (
                      <span className="badge badge-done">{pick({ zh: '已停用', en: 'disabled' })}</span>
                    ) : (
                      <span className="badge badge-running">{pick({ zh: '启用', en: 'enabled' })}</span>
                    )}
                  </td>
                  <td className="cell-action">
                    <div className="user-actions">
                      <button
                        type="button"
                        className="small"
                        disabled={busy}
                        onClick={() => setEditing(u.id)}
                      >
                        {pick({ zh: '编辑', en: 'Edit' })}
                      </button>
                      <button
                        type="button"
                        className="small"
                        disabled={busy || (!u.disabled && u.id === me.id)}
                        onClick={() => void setDisabled(u, !u.disabled)}
                      >
                        {u.disabled
                          ? pick({ zh: '启用', en: 'Enable' })
                          : pick({ zh: '停用', en: 'Disable' })}
                      </button>
                      <button
                        type="button"
                        className="small"
                        disabled={busy || u.disabled}
                        onClick={() => void resetLink(u)}
                      >
                        {pick({ zh: '重置密码链接', en: 'Password link' })}
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
