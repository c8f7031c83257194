/**
 * Audio formats that cross the carrier ⇄ session ⇄ provider seams.
 *
 * Audio travels in the leg's native encoding plus this descriptor, so the Twilio ⇄ ElevenLabs
 * `ulaw_8000` and Twilio ⇄ OpenAI `audio/pcmu` paths never transcode.
 * Sources: https://www.twilio.com/docs/voice/media-streams/websocket-messages (μ-law 8 kHz mono),
 * @elevenlabs/types ConversationInitiationMetadataEvent formats, openai RealtimeAudioFormats.
 */
export type AudioEncoding = 'mulaw' | 'alaw' | 'pcm16le';
export type SampleRate = 8000 | 16000 | 24000;

export interface AudioFormat {
  readonly encoding: AudioEncoding;
  /** Samples per second (Hz), mono. */
  readonly sampleRate: SampleRate;
}

/** G.711 μ-law at 8 kHz: what Twilio carries both ways. */
export const MULAW_8K: AudioFormat = Object.freeze({ encoding: 'mulaw', sampleRate: 8000 });

/** Bytes per sample of an encoding: 1 for G.711, 2 for PCM16. */
export function bytesPerSample(encoding: AudioEncoding): number {
  return encoding === 'pcm16le' ? 2 : 1;
}

/** Bytes per millisecond of audio in `format` (μ-law 8 kHz → 8; PCM16 16 kHz → 32). */
export function bytesPerMs(format: AudioFormat): number {
  return (format.sampleRate / 1000) * bytesPerSample(format.encoding);
}

/** Duration in ms (may be fractional) of `byteLength` bytes of `format`. */
export function durationMs(format: AudioFormat, byteLength: number): number {
  return byteLength / bytesPerMs(format);
}

/** True when two formats are byte-identical on the wire (no conversion needed). */
export function sameFormat(a: AudioFormat, b: AudioFormat): boolean {
  return a.encoding === b.encoding && a.sampleRate === b.sampleRate;
}

/** Human label, e.g. `mulaw@8000`, for logs. */
export function formatLabel(f: AudioFormat): string {
  return `${f.encoding}@${f.sampleRate}`;
}
