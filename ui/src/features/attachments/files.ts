/**
 * Attached files from the browser: upload one (its raw bytes, its name in `?name=`), list an
 * instance's files, and the link that downloads one (each download is recorded by the server).
 */
import { ApiError, api, currentCsrfToken } from '../../api.ts';

/** A file an instance holds (`GET /api/instances/{id}/attachments`). */
export interface StoredFile {
  sha256: string;
  name: string;
  type: string;
  size: number;
  uploadedBy: string;
  uploadedAt: string;
}

/** What an event sends to attach a stored file: its hash and, for a required slot, its kind. */
export interface FileChoice {
  sha256: string;
  kind?: string;
}

const base = (workflowId: string): string => `/api/instances/${encodeURIComponent(workflowId)}/attachments`;

export async function uploadFile(workflowId: string, file: File): Promise<StoredFile> {
  const token = currentCsrfToken();
  const res = await fetch(`${base(workflowId)}?name=${encodeURIComponent(file.name)}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      'content-type': file.type || 'application/octet-stream',
      ...(token ? { 'x-csrf-token': token } : {}),
    },
    body: file,
  });
  const payload = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok)
    throw new ApiError({
      ...payload,
      status: res.status,
      code: typeof payload.code === 'string' ? payload.code : `HTTP_${res.status}`,
      detail: typeof payload.detail === 'string' ? payload.detail : res.statusText,
    });
  return payload as unknown as StoredFile;
}

export function listFiles(workflowId: string, signal?: AbortSignal): Promise<{ attachments: StoredFile[] }> {
  return api('GET', base(workflowId), undefined, signal ? { signal } : {});
}

export function downloadHref(workflowId: string, sha256: string): string {
  return `${base(workflowId)}/${sha256}`;
}

/** "1.2 MB" / "830 KB" / "512 B". */
export function fileSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}
