/**
 * An email as an RFC 5322 message (https://www.rfc-editor.org/rfc/rfc5322) with a MIME text/plain
 * UTF-8 body (RFC 2045/2046): CRLF line ends, header values with non-ASCII text as RFC 2047
 * encoded-words, body lines kept under the 998-octet limit (RFC 5322 §2.1.1).
 */
import { randomUUID } from 'node:crypto';

export interface EmlInput {
  from: string;
  to: string;
  subject: string;
  text: string;
  date: Date;
  /** `Message-ID` left part; default a random UUID. */
  id?: string;
  /** Extra headers, e.g. `{ 'X-Idempotency-Key': 'digest:2026-11-23' }` (ASCII values). */
  headers?: Record<string, string>;
}

/** RFC 2047 `=?UTF-8?B?…?=` when `v` has non-ASCII characters; as is otherwise. */
function encodeWord(v: string): string {
  return /^[\x20-\x7e]*$/.test(v) ? v : `=?UTF-8?B?${Buffer.from(v, 'utf8').toString('base64')}?=`;
}

/** Split a line into pieces of at most `max` UTF-8 octets, at spaces where possible. */
function wrap(line: string, max = 900): string[] {
  const out: string[] = [];
  let rest = line;
  while (Buffer.byteLength(rest, 'utf8') > max) {
    let cut = max;
    while (Buffer.byteLength(rest.slice(0, cut), 'utf8') > max) cut--;
    const space = rest.lastIndexOf(' ', cut);
    if (space > 0) cut = space;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^ /, '');
  }
  out.push(rest);
  return out;
}

/** The whole message as a string with CRLF line ends, ready to write to a `.eml` file. */
export function toEml(m: EmlInput): string {
  const domain = /@([^>\s]+)>?$/.exec(m.from)?.[1] ?? 'callbridge.local';
  const headers: [string, string][] = [
    ['From', m.from],
    ['To', m.to],
    ['Subject', encodeWord(m.subject)],
    ['Date', m.date.toUTCString().replace('GMT', '+0000')],
    ['Message-ID', `<${m.id ?? randomUUID()}@${domain}>`],
    ['MIME-Version', '1.0'],
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Transfer-Encoding', '8bit'],
    ...Object.entries(m.headers ?? {}),
  ];
  const body = m.text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .flatMap((l) => wrap(l));
  return `${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body.join('\r\n')}\r\n`;
}
