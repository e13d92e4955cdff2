/**
 * What uploads may be: the largest size, the families of file accepted, and where the bytes live
 * (the records store by default, or a configured folder). Read from the settings
 * (`CUSTODIA_ATTACHMENT_MAX_BYTES`, `CUSTODIA_ATTACHMENT_TYPES`, `CUSTODIA_ATTACHMENTS_DIR`).
 */
import path from 'node:path';
import { FILE_FAMILIES, type FileFamily } from '../../workflows/core/attachments.ts';
import { REPO_ROOT, SETTINGS, setting } from '../settings.ts';

export interface AttachmentLimits {
  maxBytes: number;
  families: readonly FileFamily[];
  /** Folder the bytes are kept in (absolute); undefined: in the records store. */
  dir?: string;
}

export function attachmentLimits(env: NodeJS.ProcessEnv = process.env): AttachmentLimits {
  const rawMax =
    setting('CUSTODIA_ATTACHMENT_MAX_BYTES', env) ?? SETTINGS.CUSTODIA_ATTACHMENT_MAX_BYTES.default;
  const maxBytes = Number(rawMax);
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0)
    throw new Error(`CUSTODIA_ATTACHMENT_MAX_BYTES must be a positive number of bytes, got "${rawMax}"`);
  const rawTypes = setting('CUSTODIA_ATTACHMENT_TYPES', env) ?? SETTINGS.CUSTODIA_ATTACHMENT_TYPES.default;
  const families = rawTypes
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const unknown = families.filter((f) => !(FILE_FAMILIES as readonly string[]).includes(f));
  if (unknown.length || !families.length)
    throw new Error(
      `CUSTODIA_ATTACHMENT_TYPES lists file families among ${FILE_FAMILIES.join(', ')}, got "${rawTypes}"`,
    );
  const dir = setting('CUSTODIA_ATTACHMENTS_DIR', env);
  return {
    maxBytes,
    families: families as FileFamily[],
    ...(dir ? { dir: path.resolve(REPO_ROOT, dir) } : {}),
  };
}
