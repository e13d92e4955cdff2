/**
 * The language a request is answered in, for the engine's own messages (refusals): Chinese when the
 * request's `Accept-Language` prefers it (the UI sends its current language), English otherwise.
 */
import type { IncomingMessage } from 'node:http';
import type { Language } from '../../workflows/core/ir.ts';

export function requestLanguage(req: Pick<IncomingMessage, 'headers'>): Language {
  const header = req.headers['accept-language'];
  const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('zh') ? 'zh' : 'en';
}
