/**
 * Twilio's HTTP side of a call: the voice-request parameters, signed form POSTs (voice webhook,
 * status callbacks) and the public-URL → loopback mapping the emulators dial.
 * Signing uses the SDK helper `twilio.getExpectedTwilioSignature` over the exact public URL + params
 * (docs/protocols/twilio.md#signatures; https://www.twilio.com/docs/usage/security#validating-requests).
 */
import { performance } from 'node:perf_hooks';
import twilio from 'twilio';

/** How to sign: a correct signature, one made with the wrong token, or no header at all. */
export type SignatureMode = 'valid' | 'forged' | 'missing';

/** Country code guess for the geo fields (`FromCountry`, …) from an E.164 number; '' when unknown. */
function countryOf(number: string): string {
  if (number.startsWith('+1')) return 'US';
  if (number.startsWith('+91')) return 'IN';
  if (number.startsWith('+44')) return 'GB';
  return '';
}

/**
 * Every voice-request parameter for a call (docs/protocols/twilio.md#voice-webhook;
 * https://www.twilio.com/docs/voice/twiml#twilios-request-to-your-application). Geo fields are sent
 * with a country only (cities etc. empty, as Twilio does when the lookup has nothing).
 */
export function voiceParams(p: {
  callSid: string;
  accountSid: string;
  from: string;
  to: string;
  direction: 'inbound' | 'outbound-api';
  callStatus: string;
}): Record<string, string> {
  const out: Record<string, string> = {
    CallSid: p.callSid,
    AccountSid: p.accountSid,
    From: p.from,
    To: p.to,
    Caller: p.from,
    Called: p.to,
    CallStatus: p.callStatus,
    ApiVersion: '2010-04-01',
    Direction: p.direction,
  };
  for (const [prefix, number] of [
    ['From', p.from],
    ['Caller', p.from],
    ['To', p.to],
    ['Called', p.to],
  ] as const) {
    out[`${prefix}City`] = '';
    out[`${prefix}State`] = '';
    out[`${prefix}Zip`] = '';
    out[`${prefix}Country`] = countryOf(number);
  }
  return out;
}

/** Map a public URL (`https://calls.example.com/x?y`) onto the loopback base actually dialled, keeping path + query. */
export function toLoopback(publicUrl: string, serverBase: string): string {
  const u = new URL(publicUrl);
  return serverBase.replace(/\/+$/, '') + u.pathname + u.search;
}

/** The result of a signed POST: HTTP status, body text, content type, wall ms from send to full body. */
export interface PostResult {
  status: number;
  body: string;
  contentType: string;
  latencyMs: number;
  /** Network failure (refused, timeout): status is 0. */
  error?: string;
}

/**
 * POST `params` form-encoded to `target`, with `X-Twilio-Signature` computed over `signedUrl` (the
 * public URL Twilio was configured with).
 * @param timeoutMs Twilio's default webhook timeout is 15 s.
 */
export async function postSignedForm(opts: {
  target: string;
  signedUrl: string;
  authToken: string;
  params: Record<string, string>;
  signature?: SignatureMode;
  timeoutMs?: number;
}): Promise<PostResult> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    'User-Agent': 'TwilioProxy/1.1',
    Accept: '*/*',
  };
  const mode = opts.signature ?? 'valid';
  if (mode !== 'missing') {
    const token = mode === 'valid' ? opts.authToken : opts.authToken + 'forged';
    headers['X-Twilio-Signature'] = twilio.getExpectedTwilioSignature(token, opts.signedUrl, opts.params);
  }
  const t = performance.now();
  try {
    const res = await fetch(opts.target, {
      method: 'POST',
      headers,
      body: new URLSearchParams(opts.params).toString(),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15000),
    });
    const body = await res.text();
    return { status: res.status, body, contentType: res.headers.get('content-type') ?? '', latencyMs: performance.now() - t };
  } catch (err) {
    return { status: 0, body: '', contentType: '', latencyMs: performance.now() - t, error: (err as Error).message };
  }
}
