/**
 * Mixes the background ambience loop (../audio/ambience.ts) under fixed-size frames of agent audio in the carrier's
 * format: decoded to PCM16, added sample by sample with saturation, continuing the loop across frames, then encoded
 * back (G.711 by table: ../audio/g711.ts). After `restart()` the ambience fades in over `FADE_MS`, so a barge-in cut is
 * not followed by a click. About 2–4 µs per 20 ms frame.
 */
import { ambienceLoop, type AmbienceSource } from '../audio/ambience';
import type { AudioFormat } from '../audio/format';
import { ALAW, MULAW, type G711Law } from '../audio/g711';

/** Ms of fade-in of the ambience after a `clear` and at the start of the call. */
export const FADE_MS = 10;

export class AmbienceMixer {
  private readonly law?: G711Law;
  private readonly bps: number;
  private readonly loop: Int16Array;
  private loopPos = 0;
  private fade = 0;
  private readonly fadeLen: number;
  /** Reused PCM accumulator of one frame. */
  private readonly mix: Int32Array;

  /**
   * @param frameBytes bytes of `format` per frame (whole samples); every `mixed` call takes and returns one frame.
   * @param format the carrier's format (μ-law, A-law or PCM16LE; rate 8000/16000/24000 Hz).
   */
  constructor(
    src: AmbienceSource,
    format: AudioFormat,
    readonly frameBytes: number,
  ) {
    this.bps = format.encoding === 'pcm16le' ? 2 : 1;
    this.law = format.encoding === 'mulaw' ? MULAW : format.encoding === 'alaw' ? ALAW : undefined;
    this.loop = ambienceLoop(src, format.sampleRate);
    this.mix = new Int32Array(frameBytes / this.bps);
    this.fadeLen = Math.max(1, Math.round((FADE_MS * format.sampleRate) / 1000));
  }

  /** The silence byte of the format (μ-law 0xFF, A-law 0xD5, PCM16 0). */
  get silence(): number {
    return this.law ? this.law.silence : 0;
  }

  /** Fade the ambience in again from silence (after a `clear`). */
  restart(): void {
    this.fade = 0;
  }

  /** One frame: `agent` (exactly `frameBytes`, or none: ambience only) plus the next ambience samples, saturated, encoded. */
  mixed(agent: Buffer | undefined): Buffer {
    const n = this.mix.length;
    const mix = this.mix;
    const law = this.law;
    if (!agent) mix.fill(0);
    else if (law) for (let i = 0; i < n; i++) mix[i] = law.decode[agent[i]!]!;
    else for (let i = 0, b = 0; i < n; i++, b += 2) mix[i] = ((agent[b]! | (agent[b + 1]! << 8)) << 16) >> 16;
    const loop = this.loop;
    let p = this.loopPos;
    for (let i = 0; i < n; i++) {
      const a = loop[p]!;
      mix[i] = mix[i]! + (this.fade < this.fadeLen ? Math.round((a * this.fade++) / this.fadeLen) : a);
      if (++p === loop.length) p = 0;
    }
    this.loopPos = p;
    const out = Buffer.allocUnsafe(n * this.bps);
    for (let i = 0; i < n; i++) {
      const v = mix[i]!;
      const s = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      if (law) out[i] = law.encode[s + 32768]!;
      else {
        out[2 * i] = s & 0xff;
        out[2 * i + 1] = (s >> 8) & 0xff;
      }
    }
    return out;
  }
}
