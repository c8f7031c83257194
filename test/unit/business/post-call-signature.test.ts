import { createHmac } from 'node:crypto';
import { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import { checkElevenLabsSignature } from '../../../src/app/post-call-webhook';

const SECRET = 'wsec_test_0123456789abcdef';
const body = Buffer.from(
  JSON.stringify({ type: 'post_call_transcription', event_timestamp: 1773512345, data: { conversation_id: 'conv_1', note: 'naïve café' } }),
);
const sign = (t: number, raw: Buffer, secret = SECRET) => `t=${t},v0=${createHmac('sha256', secret).update(`${t}.`).update(raw).digest('hex')}`;

/** The official SDK's verdict on the same input (it throws on anything it refuses). */
async function sdkAccepts(header: string, raw: Buffer): Promise<boolean> {
  const sdk = new ElevenLabsClient({ apiKey: 'unused' });
  return sdk.webhooks.constructEvent(raw.toString('utf8'), header, SECRET).then(
    () => true,
    () => false,
  );
}

describe('ElevenLabs-Signature', () => {
  const now = Date.now();
  const t = Math.floor(now / 1000);

  it.each([
    ['a fresh, correct signature', sign(t, body), true],
    ['a signature 29 minutes old', sign(t - 29 * 60, body), true],
    ['a signature 31 minutes old', sign(t - 31 * 60, body), false],
    ['a signature made with another secret', sign(t, body, 'other'), false],
    ['a signature over another body', sign(t, Buffer.from('{}')), false],
    ['a header without v0', `t=${t}`, false],
  ])('treats %s as the official SDK does', async (_what, header, ok) => {
    expect(checkElevenLabsSignature(SECRET, header, body, now).ok).toBe(ok);
    expect(await sdkAccepts(header, body)).toBe(ok);
  });

  it('says why a signature is refused', () => {
    expect(checkElevenLabsSignature(SECRET, undefined, body, now)).toEqual({ ok: false, reason: 'missing' });
    expect(checkElevenLabsSignature(SECRET, 'v0=abc', body, now)).toEqual({ ok: false, reason: 'malformed' });
    expect(checkElevenLabsSignature(SECRET, sign(t - 3600, body), body, now)).toEqual({ ok: false, reason: 'stale' });
    expect(checkElevenLabsSignature(SECRET, `t=${t},v0=zz`, body, now)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('accepts any of several v0 values (secret rotation)', () => {
    const good = sign(t, body).split(',')[1];
    expect(checkElevenLabsSignature(SECRET, `t=${t},v0=${'0'.repeat(64)},${good}`, body, now).ok).toBe(true);
  });
});
