/**
 * Minimal RIFF/WAVE reader and writer for mono PCM16 and G.711 μ-law (format tags 1 and 7).
 * Source: http://soundfile.sapp.org/doc/WaveFormat/ and Microsoft's WAVEFORMATEX (tag 7 = μ-law).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mulawToLinear } from './g711';

export interface WavAudio {
  /** Samples per second (Hz). */
  sampleRate: number;
  /** PCM16 samples, mono (μ-law files are decoded; stereo files are down-mixed). */
  samples: Int16Array;
}

/**
 * Parse a WAV file's bytes.
 * @throws Error when the data is not RIFF/WAVE or the format is not PCM16 or μ-law.
 */
export function parseWav(buf: Buffer): WavAudio {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let off = 12;
  let fmt: { tag: number; channels: number; rate: number; bits: number } | undefined;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      fmt = { tag: buf.readUInt16LE(body), channels: buf.readUInt16LE(body + 2), rate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt) throw new Error('WAV data chunk before fmt chunk');
      const data = buf.subarray(body, Math.min(buf.length, body + size));
      return { sampleRate: fmt.rate, samples: decodeData(data, fmt.tag, fmt.bits, fmt.channels) };
    }
    off = body + size + (size & 1);
  }
  throw new Error('WAV has no data chunk');
}

function decodeData(data: Buffer, tag: number, bits: number, channels: number): Int16Array {
  const bytesPer = tag === 7 ? 1 : 2;
  if (!((tag === 1 && bits === 16) || (tag === 7 && bits === 8) || (tag === 0xfffe && bits === 16))) {
    throw new Error(`unsupported WAV format tag ${tag} with ${bits} bits`);
  }
  const frames = Math.floor(data.length / (bytesPer * channels));
  const out = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    let acc = 0;
    for (let c = 0; c < channels; c++) {
      const at = (i * channels + c) * bytesPer;
      acc += bytesPer === 1 ? mulawToLinear(data[at]!) : data.readInt16LE(at);
    }
    out[i] = Math.round(acc / channels);
  }
  return out;
}

/** Read and parse a WAV file from disk. @throws as `parseWav`, or on I/O errors. */
export function readWav(path: string): WavAudio {
  return parseWav(readFileSync(path));
}

/** Encode mono PCM16 samples as a WAV file (format tag 1). */
export function encodeWav(samples: Int16Array, sampleRate: number): Buffer {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'ascii');
  head.writeUInt32LE(36 + data.length, 4);
  head.write('WAVE', 8, 'ascii');
  head.write('fmt ', 12, 'ascii');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20);
  head.writeUInt16LE(1, 22);
  head.writeUInt32LE(sampleRate, 24);
  head.writeUInt32LE(sampleRate * 2, 28);
  head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36, 'ascii');
  head.writeUInt32LE(data.length, 40);
  return Buffer.concat([head, data]);
}

/** Write mono PCM16 samples to `path` as a WAV file. */
export function writeWav(path: string, samples: Int16Array, sampleRate: number): void {
  writeFileSync(path, encodeWav(samples, sampleRate));
}
