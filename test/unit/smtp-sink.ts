/**
 * A real SMTP server in the test process (npm `smtp-server`): what arrives, decoded enough to
 * assert on (headers, RFC 2047 subjects, quoted-printable / base64 parts). `delayMs` holds each
 * DATA before answering 250, so a sender can be killed mid-batch.
 */
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  messageId: string;
  subject: string;
  contentLanguage?: string;
  /** Every text part, decoded, joined. */
  body: string;
  raw: string;
}

export interface SmtpSink {
  port: number;
  received: ReceivedMail[];
  close(): Promise<void>;
}

export async function startSmtpSink(opts: { delayMs?: number; port?: number } = {}): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const accept = (): void => {
          received.push(
            parseMail(
              raw,
              session.envelope.rcptTo.map((r) => r.address),
            ),
          );
          callback();
        };
        if (opts.delayMs) setTimeout(accept, opts.delayMs);
        else accept();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function header(head: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:[ \\t]*((?:.*)(?:\\r?\\n[ \\t].*)*)`, 'im').exec(head);
  return m?.[1]?.replace(/\r?\n[ \t]/g, ' ').trim();
}

function decodeWords(s: string): string {
  return s
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
      enc.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQp(text.replace(/_/g, ' ')),
    );
}

function decodeQp(s: string): string {
  const bytes: number[] = [];
  const t = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < t.length; i++) {
    if (t[i] === '=' && /^[0-9A-F]{2}$/i.test(t.slice(i + 1, i + 3))) {
      bytes.push(parseInt(t.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(t[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

function parseMail(raw: string, to: string[]): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split);
  const parts: string[] = [];
  // Each MIME part (or the single body): headers, blank line, content.
  const sections = raw.split(/\r?\n--[^\r\n]+\r?\n/);
  for (const section of sections.length > 1 ? sections.slice(1) : [raw]) {
    const at = section.indexOf('\r\n\r\n');
    if (at < 0) continue;
    const h = section.slice(0, at);
    const type = header(h, 'Content-Type') ?? '';
    if (!/^text\//i.test(type)) continue;
    const content = section.slice(at + 4).replace(/\r?\n--[^\r\n]+--\s*$/, '');
    const enc = (header(h, 'Content-Transfer-Encoding') ?? '').toLowerCase();
    parts.push(
      enc === 'base64'
        ? Buffer.from(content.replace(/\s+/g, ''), 'base64').toString('utf8')
        : enc === 'quoted-printable'
          ? decodeQp(content)
          : content,
    );
  }
  const lang = header(head, 'Content-Language');
  return {
    to,
    messageId: header(head, 'Message-ID') ?? '',
    subject: decodeWords(header(head, 'Subject') ?? ''),
    ...(lang ? { contentLanguage: lang } : {}),
    body: parts.join('\n'),
    raw,
  };
}
