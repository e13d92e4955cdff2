/**
 * `/setup#<token>`: create the first administrator with the one-time link `npm start` printed
 * while the directory was empty (POST /api/setup), then sign in as that administrator.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { api, asApiError, type ApiError } from '../../api.ts';
import { useI18n } from '../../i18n.tsx';
import { Link, navigate } from '../../router.tsx';
import { useSession } from '../../session.tsx';
import { Refusal, TokenCard, tokenFromUrl, useNewPassword } from './TokenForm.tsx';

export function SetupPage() {
  const { pick } = useI18n();
  const { signIn } = useSession();
  const [pending, setPending] = useState<boolean | undefined>();
  const [id, setId] = useState('');
  const [displayName, setDisplayName] = useState('');
  const pw = useNewPassword();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const token = tokenFromUrl();

  useEffect(() => {
    api<{ pending: boolean }>('GET', '/api/setup').then(
      (r) => setPending(r.pending),
      () => setPending(true),
    );
  }, []);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api('POST', '/api/setup', {
        token,
        id: id.trim(),
        displayName: displayName.trim(),
        password: pw.password,
      });
      await signIn(id.trim(), pw.password);
      navigate('/users', { replace: true });
    } catch (err) {
      setError(asApiError(err));
      setBusy(false);
    }
  };

  const title = pick({ zh: '创建第一个管理员', en: 'Create the first administrator' });
  if (pending === false)
    return (
      <TokenCard title={title}>
        <p className="notice" role="status">
          {pick({
            zh: '系统已有管理员，初始设置已结束。',
            en: 'An administrator exists already: setup is over.',
          })}
        </p>
        <Link to="/">{pick({ zh: '去登录', en: 'Go to sign-in' })}</Link>
      </TokenCard>
    );
  return (
    <TokenCard title={title}>
      <p className="muted">
        {pick({
          zh: '此链接只能使用一次，一小时内有效。管理员负责部署流程定义和管理用户。',
          en: 'This link works once, within an hour. The administrator deploys definitions and manages users.',
        })}
      </p>
      {!token && (
        <p className="error" role="alert">
          {pick({
            zh: '地址中没有设置令牌：请打开启动时控制台显示的完整链接。',
            en: 'The address has no setup token: open the whole link the console printed at start.',
          })}
        </p>
      )}
      <form onSubmit={(e) => void submit(e)} aria-label={title}>
        <label className="field">
          <span className="field-label">{pick({ zh: '用户名', en: 'User ID' })}</span>
          <input
            value={id}
            onChange={(e) => setId(e.target.value)}
            autoComplete="username"
            required
            autoFocus
          />
        </label>
        <label className="field">
          <span className="field-label">{pick({ zh: '显示名称', en: 'Display name' })}</span>
          <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} required />
        </label>
        {pw.fields}
        {error && <Refusal error={error} />}
        <button
          type="submit"
          className="primary wide"
          disabled={busy || !token || !id.trim() || !displayName.trim() || pw.problem !== undefined}
        >
          {pick({ zh: '创建管理员', en: 'Create administrator' })}
        </button>
      </form>
    </TokenCard>
  );
}
