/**
 * ElevenLabs audio format names ⇄ callbridge `AudioFormat`.
 *
 * Formats are agent settings reported in `conversation_initiation_metadata` (docs/protocols/elevenlabs.md#audio-formats; enum from
 * `@elevenlabs/types` `ConversationInitiationMetadataEvent`); `<pcm|ulaw>_<rate>` is how the official
 * client parses them (https://github.com/elevenlabs/packages/blob/main/packages/client/src/utils/BaseConnection.ts). PCM is 16-bit little-endian
 * mono (byte order unverified for ElevenLabs; the official client plays it as 16-bit LE).
 */
import type { AudioFormat } from '../../audio/format';
import type { ElevenLabsAudioFormat } from './wire';

/** `null` = a valid ElevenLabs format the call path does not carry (22.05/44.1/48 kHz). */
const FORMATS: Readonly<Record<ElevenLabsAudioFormat, AudioFormat | null>> = Object.freeze({
  ulaw_8000: { encoding: 'mulaw', sampleRate: 8000 },
  pcm_8000: { encoding: 'pcm16le', sampleRate: 8000 },
  pcm_16000: { encoding: 'pcm16le', sampleRate: 16000 },
  pcm_24000: { encoding: 'pcm16le', sampleRate: 24000 },
  pcm_22050: null,
  pcm_44100: null,
  pcm_48000: null,
});

/**
 * The official client's default when the metadata omits `user_input_audio_format`
 * (https://github.com/elevenlabs/packages/blob/main/packages/client/src/utils/WebSocketConnection.ts).
 */
export const DEFAULT_INPUT_FORMAT: ElevenLabsAudioFormat = 'pcm_16000';

/**
 * Map an ElevenLabs format name (`ulaw_8000` → {mulaw, 8000}, `pcm_16000` → {pcm16le, 16000}).
 * @returns `null` for unknown names and for rates other than 8000/16000/24000 Hz.
 */
export function fromElevenLabsFormat(name: unknown): AudioFormat | null {
  if (typeof name !== 'string' || !Object.hasOwn(FORMATS, name)) return null;
  return FORMATS[name as ElevenLabsAudioFormat];
}

/** The ElevenLabs name of a callbridge format, or `null` when ElevenLabs has none (A-law, μ-law ≠ 8 kHz). */
export function toElevenLabsFormat(f: AudioFormat): ElevenLabsAudioFormat | null {
  if (f.encoding === 'mulaw') return f.sampleRate === 8000 ? 'ulaw_8000' : null;
  if (f.encoding === 'pcm16le') return `pcm_${f.sampleRate}`;
  return null;
}
