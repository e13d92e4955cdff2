/**
 * Serving the built web UI (`ui/dist`, written by `npm run ui:build`) beside the API: files by path
 * (never outside the folder), `index.html` for any other extension-less path so the UI's own
 * router handles deep links (`/instances/…`), long-lived caching for Vite's hashed `assets/`, and
 * none for `index.html` (a new build is picked up on reload).
 *
 * Content-Security-Policy: scripts and connections from this origin only. `'unsafe-eval'` is
 * needed because the UI validates definitions and event data in the browser with ajv, which
 * compiles JSON Schemas to functions; `'unsafe-inline'` styles because CodeMirror injects its own.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export interface UiFiles {
  /** Absolute folder served. */
  dir: string;
  /** Serve `pathname` (GET/HEAD) if it is the UI's; false when it is not (→ the caller's 404). */
  serve(req: IncomingMessage, res: ServerResponse, pathname: string): boolean;
}

/** The UI in `dir` (must hold `index.html`: build it first with `npm run ui:build`). */
export function uiFiles(dir: string): UiFiles {
  const root = path.resolve(dir);
  const index = path.join(root, 'index.html');
  if (!existsSync(index))
    throw new Error(`${root}: no index.html — build the web UI first (npm run ui:build)`);
  const send = (req: IncomingMessage, res: ServerResponse, file: string, immutable: boolean): void => {
    const st = statSync(file);
    const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    res.writeHead(200, {
      'content-type': type,
      'content-length': st.size,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      ...(type.startsWith('text/html')
        ? { 'content-security-policy': UI_CSP, 'x-frame-options': 'DENY' }
        : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  };
  return {
    dir: root,
    serve(req, res, pathname) {
      if (pathname === '/api' || pathname.startsWith('/api/')) return false;
      let rel: string;
      try {
        rel = decodeURIComponent(pathname);
      } catch {
        return false;
      }
      if (rel.includes('\0')) return false;
      const file = path.resolve(root, '.' + path.posix.normalize('/' + rel));
      if (file !== root && !file.startsWith(root + path.sep)) return false;
      if (file !== root && existsSync(file) && statSync(file).isFile()) {
        send(req, res, file, rel.startsWith('/assets/'));
        return true;
      }
      // A client-side route (no file extension): the app's page.
      if (!path.posix.extname(rel)) {
        send(req, res, index, false);
        return true;
      }
      return false;
    },
  };
}
