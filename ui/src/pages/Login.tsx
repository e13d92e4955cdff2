import { useEffect, useState, type FormEvent } from 'react';
import type { ApiError } from '../api.ts';
import { api, asApiError } from '../api.ts';
import { useI18n } from '../i18n.tsx';
import { useSession } from '../session.tsx';
import { LangSwitch } from '../components/LangSwitch.tsx';

const OIDC_ERRORS: Record<string, { zh: string; en: string }> = {
  OIDC_UNKNOWN_USER: {
    zh: '该身份提供方账户不是已启用的 Custodia 用户，请联系管理员。',
    en: 'That identity-provider account is not an enabled Custodia user; ask an administrator.',
  },
};

export function LoginPage({ dialog = false }: { dialog?: boolean }) {
  const { pick } = useI18n();
  const { session, signIn } = useSession();
  const [id, setId] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [oidc, setOidc] = useState<{ label: string; loginUrl: string } | undefined>();
  const signinError = new URLSearchParams(window.location.search).get('signinError');

  const [setupPending, setSetupPending] = useState(false);

  useEffect(() => {
    api<{ oidc?: { label: string; loginUrl: string } }>('GET', '/api/auth').then(
      (a) => setOidc(a.oidc),
      () => undefined,
    );
    api<{ pending: boolean }>('GET', '/api/setup').then(
      (r) => setSetupPending(r.pending),
      () => undefined,
    );
  }, []);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(id.trim(), password);
    } catch (err) {
      setError(asApiError(err));
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  const message = (err: ApiError): string => {
    switch (err.code) {
      case 'BAD_CREDENTIALS':
        return pick({ zh: '用户名或密码不正确。', en: 'Unknown user or wrong password.' });
      case 'TOO_MANY_ATTEMPTS': {
        const m = /(\d+)\s*s/.exec(err.problem.detail);
        const wait = m ? Math.ceil(Number(m[1]) / 60) : undefined;
        return pick({
          zh: `登录失败次数过多，请${wait ? ` ${wait} 分钟后` : '稍后'}再试。`,
          en: `Too many failed sign-ins. Try again ${wait ? `in ${wait} min` : 'later'}.`,
        });
      }
      case 'NETWORK':
        return pick({
          zh: '无法连接服务器，请检查网络后重试。',
          en: 'The server cannot be reached; check your connection.',
        });
      default:
        return `${err.code}: ${err.problem.detail}`;
    }
  };

  const returnTo = window.location.pathname + window.location.search;
  return (
    <div className={dialog ? 'login login-overlay' : 'login'}>
      <div
        className="login-card"
        {...(dialog
          ? {
              role: 'dialog',
              'aria-modal': true,
              'aria-label': pick({ zh: '重新登录', en: 'Sign in again' }),
            }
          : {})}
      >
        <div className="login-head">
          <div className="brand brand-large">
            <span className="brand-mark" aria-hidden="true">
              C
            </span>
            Custodia
          </div>
          <LangSwitch />
        </div>
        <p className="muted">
          {pick({
            zh: '保密管理程序 · 流程与审核记录',
            en: 'Confidentiality procedure · workflows and audit trail',
          })}
        </p>
        {session.status === 'signedOut' && session.expired && (
          <p className="notice" role="status">
            {pick({
              zh: '会话已过期，请重新登录；登录后将回到原页面。',
              en: 'Your session ended. Sign in again to return to this page.',
            })}
          </p>
        )}
        {setupPending && (
          <p className="notice" role="status">
            {pick({
              zh: '尚无任何用户：请打开 Custodia 启动时在控制台显示的一次性设置链接，创建第一个管理员。',
              en: 'No user exists yet: open the one-time setup link Custodia printed on its console at start to create the first administrator.',
            })}
          </p>
        )}
        {signinError && (
          <p className="error" role="alert">
            {OIDC_ERRORS[signinError] ? pick(OIDC_ERRORS[signinError]) : signinError}
          </p>
        )}
        <form onSubmit={(e) => void submit(e)} aria-label={pick({ zh: '登录', en: 'Sign in' })}>
          <label className="field">
            <span className="field-label">{pick({ zh: '用户名', en: 'User ID' })}</span>
            <input
              name="id"
              autoComplete="username"
              value={id}
              onChange={(e) => setId(e.target.value)}
              required
              autoFocus
            />
          </label>
          <label className="field">
            <span className="field-label">{pick({ zh: '密码', en: 'Password' })}</span>
            <input
              name="password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
            />
          </label>
          {error && (
            <p className="error" role="alert" data-code={error.code}>
              {message(error)}
            </p>
          )}
          <button type="submit" className="primary wide" disabled={busy || !id || !password}>
            {pick({ zh: '登录', en: 'Sign in' })}
          </button>
        </form>
        {oidc && (
          <a className="button wide" href={`${oidc.loginUrl}?returnTo=${encodeURIComponent(returnTo)}`}>
            {oidc.label}
          </a>
        )}
      </div>
    </div>
  );
}
