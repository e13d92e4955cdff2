/**
 * The form of one user: id (new users only), display name, roles (the roles users may hold, by
 * title, with the procedures declaring them) and assigned clients (comma or line separated).
 * Roles that see every client say so: their holders need no client.
 */
import { useState, type FormEvent } from 'react';
import { useI18n } from '../../i18n.tsx';
import type { DirectoryUser, RoleOption } from './types.ts';

export interface UserValues {
  id: string;
  displayName: string;
  roles: string[];
  clients: string[];
}

export function UserForm({
  user,
  roles,
  busy,
  onSubmit,
  onCancel,
}: {
  /** Absent: a new user. */
  user?: DirectoryUser;
  roles: readonly RoleOption[];
  busy: boolean;
  onSubmit(values: UserValues): void;
  onCancel(): void;
}) {
  const { pick, text } = useI18n();
  const [id, setId] = useState(user?.id ?? '');
  const [displayName, setDisplayName] = useState(user?.displayName ?? '');
  const [chosen, setChosen] = useState<string[]>(user?.roles ?? []);
  const [clients, setClients] = useState((user?.clients ?? []).join(', '));
  const toggle = (role: string): void =>
    setChosen((c) => (c.includes(role) ? c.filter((r) => r !== role) : [...c, role]));
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    onSubmit({
      id: id.trim(),
      displayName: displayName.trim(),
      roles: chosen,
      clients: clients
        .split(/[,\n]/)
        .map((c) => c.trim())
        .filter(Boolean),
    });
  };
  const label = user
    ? pick({ zh: `编辑用户 ${user.id}`, en: `Edit user ${user.id}` })
    : pick({ zh: '新建用户', en: 'New user' });
  return (
    <form className="card user-form" onSubmit={submit} aria-label={label}>
      <h2>{label}</h2>
      <div className="user-form-row">
        {!user && (
          <label className="field">
            <span className="field-label">{pick({ zh: '用户名', en: 'User ID' })}</span>
            <input value={id} onChange={(e) => setId(e.target.value)} required autoFocus />
          </label>
        )}
        <label className="field">
          <span className="field-label">{pick({ zh: '显示名称', en: 'Display name' })}</span>
          <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} required />
        </label>
      </div>
      <fieldset className="role-options">
        <legend className="field-label">{pick({ zh: '角色', en: 'Roles' })}</legend>
        {roles.map((r) => (
          <label key={r.id} className="role-option">
            <input type="checkbox" checked={chosen.includes(r.id)} onChange={() => toggle(r.id)} />
            <span>{text(r.title)}</span>
            <span className="muted mono">{r.id}</span>
            {r.seesAllClients && (
              <span className="chip">{pick({ zh: '可见所有客户', en: 'sees every client' })}</span>
            )}
          </label>
        ))}
      </fieldset>
      <label className="field">
        <span className="field-label">
          {pick({ zh: '分配的客户（逗号分隔）', en: 'Assigned clients (comma-separated)' })}
        </span>
        <input value={clients} onChange={(e) => setClients(e.target.value)} />
      </label>
      <div className="form-actions">
        <button
          type="submit"
          className="primary"
          disabled={busy || !chosen.length || !displayName.trim() || (!user && !id.trim())}
        >
          {user ? pick({ zh: '保存', en: 'Save' }) : pick({ zh: '创建用户', en: 'Create user' })}
        </button>
        <button type="button" onClick={onCancel}>
          {pick({ zh: '取消', en: 'Cancel' })}
        </button>
      </div>
    </form>
  );
}
