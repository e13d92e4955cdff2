/** How I am told, per kind of notification (in-app only, an e-mail each, a daily digest), and my e-mail language. */
import { useState } from 'react';
import { asApiError, type ApiError } from '../../api.ts';
import { ErrorBox } from '../../components/common.tsx';
import { useApi } from '../../data.tsx';
import { useI18n, type Bilingual } from '../../i18n.tsx';
import { loadPreferences, savePreferences, type NotificationChannel, type NotificationKind } from './api.ts';

const KINDS: Record<NotificationKind, Bilingual> = {
  message: { zh: '流程通知', en: 'Procedure messages' },
  reminder: { zh: '提醒', en: 'Reminders' },
  escalation: { zh: '升级', en: 'Escalations' },
};
const CHANNELS: Record<NotificationChannel, Bilingual> = {
  in_app: { zh: '仅站内', en: 'In-app only' },
  email: { zh: '每条发邮件', en: 'E-mail each' },
  digest: { zh: '每日摘要邮件', en: 'Daily digest' },
};

export function PreferencesSection() {
  const { pick } = useI18n();
  const prefs = useApi('notification-preferences', (signal) => loadPreferences(signal));
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const save = (change: Parameters<typeof savePreferences>[0]): void => {
    savePreferences(change).then(
      () => {
        setError(undefined);
        prefs.reload();
      },
      (err: unknown) => setError(asApiError(err)),
    );
  };
  const p = prefs.data;
  return (
    <section className="card notification-preferences" aria-labelledby="notif-prefs">
      <h2 id="notif-prefs">{pick({ zh: '通知设置', en: 'How I am told' })}</h2>
      {prefs.error && <ErrorBox error={prefs.error} />}
      {error && <ErrorBox error={error} />}
      {p && (
        <>
          {!p.email && (
            <p className="muted">
              {pick({
                zh: '您没有登记邮箱，通知只在站内显示。请联系管理员登记邮箱。',
                en: 'You have no e-mail address on file: notifications are shown here only. Ask an administrator to add one.',
              })}
            </p>
          )}
          <table className="grid">
            <tbody>
              {(Object.keys(KINDS) as NotificationKind[]).map((kind) => (
                <tr key={kind}>
                  <th scope="row">{pick(KINDS[kind])}</th>
                  <td>
                    <select
                      aria-label={pick(KINDS[kind])}
                      value={p.preferences[kind]}
                      onChange={(e) =>
                        save({ preferences: { [kind]: e.target.value as NotificationChannel } })
                      }
                    >
                      {(Object.keys(CHANNELS) as NotificationChannel[]).map((c) => (
                        <option key={c} value={c}>
                          {pick(CHANNELS[c])}
                        </option>
                      ))}
                    </select>
                  </td>
                </tr>
              ))}
              <tr>
                <th scope="row">{pick({ zh: '邮件语言', en: 'E-mail language' })}</th>
                <td>
                  <select
                    aria-label={pick({ zh: '邮件语言', en: 'E-mail language' })}
                    value={p.language}
                    onChange={(e) => save({ language: e.target.value as 'zh' | 'en' })}
                  >
                    <option value="zh">中文</option>
                    <option value="en">English</option>
                  </select>
                </td>
              </tr>
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
