/**
 * Agent audio as the providers send it: base64 in a JSON field (ElevenLabs `audio_event.audio_base_64`,
 * https://elevenlabs.io/docs/agents-platform/api-reference/agents-platform/websocket; OpenAI
 * `response.output_audio.delta`, https://platform.openai.com/docs/api-reference/realtime-server-events/response/output_audio/delta).
 * A payload that is not base64, or PCM16 of an odd byte count, does not fit the declared format: the leg
 * drops and counts it instead of playing noise or shifting every later sample by a byte.
 */
import type { AudioFormat } from '../audio/format';

/** RFC 4648 §4 alphabet, padding optional. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export type BadAudio = 'empty' | 'bad_base64' | 'odd_pcm16_length';

/** The decoded bytes, or why the payload does not fit `format`. */
export function decodeAudioPayload(b64: string, format: AudioFormat): Buffer | BadAudio {
  if (b64.length === 0) return 'empty';
  if (b64.length % 4 === 1 || !BASE64.test(b64)) return 'bad_base64';
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length === 0) return 'empty';
  if (format.encoding === 'pcm16le' && bytes.length % 2 !== 0) return 'odd_pcm16_length';
  return bytes;
}
