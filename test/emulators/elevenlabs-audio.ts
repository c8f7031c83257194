/**
 * Audio in every ElevenLabs format for the emulator: `ulaw_8000` (G.711 μ-law) and `pcm_<rate>`
 * (PCM16 little-endian mono), docs/protocols/elevenlabs.md#audio-formats. The 8 kHz fixtures are upsampled by
 * linear interpolation: crude (aliasing), but the emulator only needs real, recognisable speech.
 */
import { mulawToSamples, samplesToMulaw } from '../../src/audio/g711';
import type { ElevenLabsAudioFormat } from '../../src/providers/elevenlabs/wire';

export interface FormatInfo {
  encoding: 'ulaw' | 'pcm';
  sampleRate: number;
  /** Bytes per ms of audio (μ-law 8 kHz → 8, PCM16 16 kHz → 32). */
  bytesPerMs: number;
}

/** `<pcm|ulaw>_<rate>`, the way the official client parses it. */
export function formatInfo(name: ElevenLabsAudioFormat): FormatInfo {
  const [enc, rate] = name.split('_') as ['ulaw' | 'pcm', string];
  const sampleRate = Number(rate);
  return { encoding: enc, sampleRate, bytesPerMs: (sampleRate / 1000) * (enc === 'ulaw' ? 1 : 2) };
}

/** Linear-interpolation resample of PCM16 samples from `from` Hz to `to` Hz. */
export function resampleLinear(samples: Int16Array, from: number, to: number): Int16Array {
  if (from === to) return samples;
  const n = Math.floor((samples.length * to) / from);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const pos = (i * from) / to;
    const j = Math.floor(pos);
    const a = samples[j] ?? 0;
    const b = samples[j + 1] ?? a;
    out[i] = Math.round(a + (b - a) * (pos - j));
  }
  return out;
}

/** Encode 8 kHz PCM16 samples (the fixtures) into `name`'s bytes. */
export function encodeAgentAudio(samples8k: Int16Array, name: ElevenLabsAudioFormat): Buffer {
  const f = formatInfo(name);
  const s = resampleLinear(samples8k, 8000, f.sampleRate);
  if (f.encoding === 'ulaw') return samplesToMulaw(s);
  const out = Buffer.allocUnsafe(s.length * 2);
  for (let i = 0; i < s.length; i++) out.writeInt16LE(s[i]!, i * 2);
  return out;
}

/** Decode caller bytes in `name` to PCM16 samples at the format's rate. */
export function decodeCallerAudio(buf: Buffer, name: ElevenLabsAudioFormat): Int16Array {
  if (formatInfo(name).encoding === 'ulaw') return mulawToSamples(buf);
  const out = new Int16Array(buf.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt16LE(i * 2);
  return out;
}
