/**
 * The auditor's button: download the evidence pack of one client and period (`GET /api/evidence`,
 * a zip with the PDF report inside). Shown to auditors and admins; the server decides (403 for a
 * client the user may not see, shown with its reason). Making a pack proves every definition on
 * all paths, so it takes seconds: the button says so while it waits.
 */
import { useState, type FormEvent } from 'react';
import { ApiError, asApiError, type Problem } from '../../api.ts';
import { ClientField, ErrorBox } from '../../components/common.tsx';
import { useI18n } from '../../i18n.tsx';
import type { User } from '../../types.ts';

/** Whether the user may ask for packs (the server's rule also admits every-client roles). */
export function mayMakeEvidence(user: User): boolean {
  return user.roles.includes('auditor') || user.roles.includes('admin');
}

async function download(query: URLSearchParams): Promise<void> {
  const res = await fetch(`/api/evidence?${query.toString()}`, { credentials: 'same-origin' });
  if (!res.ok) {
    const p = (await res.json().catch(() => ({}))) as Partial<Problem>;
    throw new ApiError({
      ...p,
      status: res.status,
      code: typeof p.code === 'string' ? p.code : `HTTP_${res.status}`,
      detail: typeof p.detail === 'string' ? p.detail : res.statusText,
    });
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'evidence.zip';
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function EvidencePack({ user, client }: { user: User; client?: string }) {
  const { pick, lang } = useI18n();
  const [form, setForm] = useState({ client: client ?? user.clients[0] ?? '', from: '', to: '', lang: lang });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [done, setDone] = useState(false);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setDone(false);
    try {
      const q = new URLSearchParams({ client: form.client.trim(), lang: form.lang });
      if (form.from) q.set('from', form.from);
      if (form.to) q.set('to', form.to);
      await download(q);
      setDone(true);
    } catch (err) {
      setError(asApiError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <details className="card evidence-pack">
      <summary>{pick({ zh: '证据包（供评审员）', en: 'Evidence pack for the assessor' })}</summary>
      <p className="muted">
        {pick({
          zh: '下载一个客户在某期间的证据包：PDF 报告（程序版本与哈希、条款覆盖、已证明的不变式、实例时间线、登记记录）和可离线核验的审计链段、签名检查点与清单（custodia evidence verify）。',
          en: "Download one client's evidence for a period: a PDF report (procedure versions and hashes, clause coverage, invariants proved, instance timelines, the named logs) and the audit chain segment, signed checkpoint and manifest, verifiable offline (custodia evidence verify).",
        })}
      </p>
      <form
        className="filters"
        onSubmit={(e) => void submit(e)}
        aria-label={pick({ zh: '证据包', en: 'Evidence pack' })}
      >
        <ClientField
          value={form.client}
          onChange={(client) => setForm({ ...form, client })}
          clients={user.clients}
          all={false}
          required
        />
        <label className="field">
          <span className="field-label">{pick({ zh: '自（含）', en: 'From (day)' })}</span>
          <input type="date" value={form.from} onChange={(e) => setForm({ ...form, from: e.target.value })} />
        </label>
        <label className="field">
          <span className="field-label">{pick({ zh: '至（含）', en: 'To (day, included)' })}</span>
          <input type="date" value={form.to} onChange={(e) => setForm({ ...form, to: e.target.value })} />
        </label>
        <label className="field">
          <span className="field-label">{pick({ zh: '报告语言', en: 'Report language' })}</span>
          <select
            value={form.lang}
            onChange={(e) => setForm({ ...form, lang: e.target.value as 'zh' | 'en' })}
          >
            <option value="zh">中文</option>
            <option value="en">English</option>
          </select>
        </label>
        <div className="filter-actions">
          <button type="submit" className="primary" disabled={busy || !form.client.trim()}>
            {busy
              ? pick({ zh: '正在生成（证明所有路径）…', en: 'Preparing (proving every path)…' })
              : pick({ zh: '下载证据包', en: 'Download evidence pack' })}
          </button>
        </div>
      </form>
      {done && <p className="muted">{pick({ zh: '已下载。', en: 'Downloaded.' })}</p>}
      {error && <ErrorBox error={error} title={pick({ zh: '无法生成证据包：', en: 'No evidence pack:' })} />}
    </details>
  );
}
