/**
 * `/password-reset#<token>`: set a password with the one-time link an administrator issued (a new
 * user's first password, or a reset). The administrator never sees the password.
 */
import { useState, type FormEvent } from 'react';
import { api, asApiError, type ApiError } from '../../api.ts';
import { useI18n } from '../../i18n.tsx';
import { navigate } from '../../router.tsx';
import { Refusal, TokenCard, tokenFromUrl, useNewPassword } from './TokenForm.tsx';

export function PasswordResetPage() {
  const { pick } = useI18n();
  const pw = useNewPassword();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const token = tokenFromUrl();

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const r = await api<{ userId: string }>('POST', '/api/password-reset', {
        token,
        password: pw.password,
      });
      pw.clear();
      setDone(r.userId);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  const title = pick({ zh: '设置密码', en: 'Set your password' });
  if (done)
    return (
      <TokenCard title={title}>
        <p className="notice" role="status">
          {pick({
            zh: `已为 ${done} 设置密码，请用新密码登录。`,
            en: `Password set for ${done}. Sign in with it.`,
          })}
        </p>
        <button type="button" className="primary wide" onClick={() => navigate('/', { replace: true })}>
          {pick({ zh: '去登录', en: 'Go to sign-in' })}
        </button>
      </TokenCard>
    );
  return (
    <TokenCard title={title}>
      <p className="muted">
        {pick({
          zh: '此链接只能使用一次。设置后，您之前的登录会话将结束。',
          en: 'This link works once. Setting the password ends your other sessions.',
        })}
      </p>
      <form onSubmit={(e) => void submit(e)} aria-label={title}>
        {pw.fields}
        {error && <Refusal error={error} />}
        <button type="submit" className="primary wide" disabled={busy || !token || pw.problem !== undefined}>
          {pick({ zh: '设置密码', en: 'Set password' })}
        </button>
      </form>
    </TokenCard>
  );
}
