/**
 * The frame of the pages opened from a one-time link (no session): the card of the sign-in page,
 * the token read from the URL's fragment (never sent in a request line, so never in a log), a new
 * password typed twice against the policy, and the refusals in words.
 */
import { useState, type ReactNode } from 'react';
import type { ApiError } from '../../api.ts';
import { LangSwitch } from '../../components/LangSwitch.tsx';
import { useI18n, type Bilingual } from '../../i18n.tsx';

/** The password policy of the records store (worker/records/passwords.ts). */
export const MIN_PASSWORD_LENGTH = 12;

/** The token in `#<token>` of the current address. */
export function tokenFromUrl(): string {
  return window.location.hash.replace(/^#/, '');
}

const REFUSALS: Record<string, Bilingual> = {
  TOKEN_INVALID: {
    zh: '该链接无效：可能已使用、已过期或已被新链接取代。请向管理员索取新链接。',
    en: 'This link is not valid: it was used, expired or replaced by a newer one. Ask for a new link.',
  },
  SETUP_DONE: {
    zh: '系统已有管理员，初始设置已结束。请直接登录。',
    en: 'An administrator exists already: setup is over. Sign in instead.',
  },
  WEAK_PASSWORD: {
    zh: `密码太短：至少 ${MIN_PASSWORD_LENGTH} 个字符（几个词组成的短语即可）。`,
    en: `The password is too short: at least ${MIN_PASSWORD_LENGTH} characters (a few words work well).`,
  },
  TOO_MANY_ATTEMPTS: { zh: '尝试次数过多，请稍后再试。', en: 'Too many attempts; try again later.' },
};

export function TokenCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="login">
      <div className="login-card">
        <div className="login-head">
          <div className="brand brand-large">
            <span className="brand-mark" aria-hidden="true">
              C
            </span>
            Custodia
          </div>
          <LangSwitch />
        </div>
        <h1 className="token-title">{title}</h1>
        {children}
      </div>
    </div>
  );
}

export function Refusal({ error }: { error: ApiError }) {
  const { pick } = useI18n();
  const known = REFUSALS[error.code];
  return (
    <p className="error" role="alert" data-code={error.code}>
      {known ? pick(known) : `${error.code}: ${error.problem.detail}`}
    </p>
  );
}

/** A new password typed twice; `problem` says what is wrong with it, if anything. */
export function useNewPassword(): {
  fields: ReactNode;
  password: string;
  problem: string | undefined;
  clear(): void;
} {
  const { pick } = useI18n();
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const length = [...password.normalize('NFKC')].length;
  const problem =
    length < MIN_PASSWORD_LENGTH
      ? pick({ zh: `至少 ${MIN_PASSWORD_LENGTH} 个字符`, en: `At least ${MIN_PASSWORD_LENGTH} characters` })
      : password !== repeat
        ? pick({ zh: '两次输入的密码不一致', en: 'The two passwords differ' })
        : undefined;
  const fields = (
    <>
      <label className="field">
        <span className="field-label">{pick({ zh: '新密码', en: 'New password' })}</span>
        <input
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
      </label>
      <label className="field">
        <span className="field-label">{pick({ zh: '再次输入新密码', en: 'Repeat the password' })}</span>
        <input
          type="password"
          autoComplete="new-password"
          value={repeat}
          onChange={(e) => setRepeat(e.target.value)}
          required
        />
      </label>
      {password && problem && (
        <p className="muted small-text" role="status">
          {problem}
        </p>
      )}
    </>
  );
  return {
    fields,
    password,
    problem,
    clear() {
      setPassword('');
      setRepeat('');
    },
  };
}
