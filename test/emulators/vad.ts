/**
 * Energy voice-activity detector shared by the provider emulators: feeds on PCM16 samples at any
 * rate and reports speech start/end with start and end-of-speech thresholds, like a server VAD.
 */
export interface VadOptions {
  /** Samples per second (Hz) of the input. */
  sampleRate: number;
  /** RMS (PCM16 units) above which a 20 ms window counts as voiced. Default 500. */
  threshold?: number;
  /** Voiced time (ms) needed to declare speech start. Default 60. */
  startMs?: number;
  /** Unvoiced time (ms) needed to declare speech end. Default 500. */
  silenceMs?: number;
}

export type VadEvent = { type: 'speech_start'; atMs: number } | { type: 'speech_end'; atMs: number };

/** Streams samples through 20 ms windows; returns events as they are detected. */
export class EnergyVad {
  private readonly win: number;
  private readonly threshold: number;
  private readonly startMs: number;
  private readonly silenceMs: number;
  private pending: number[] = [];
  private voicedMs = 0;
  private silentMs = 0;
  private processedMs = 0;
  speaking = false;

  constructor(opts: VadOptions) {
    this.win = Math.round(opts.sampleRate / 50);
    this.threshold = opts.threshold ?? 500;
    this.startMs = opts.startMs ?? 60;
    this.silenceMs = opts.silenceMs ?? 500;
  }

  /** Total audio fed so far, in ms. */
  get elapsedMs(): number {
    return this.processedMs;
  }

  push(samples: Int16Array): VadEvent[] {
    const events: VadEvent[] = [];
    for (const s of samples) {
      this.pending.push(s);
      if (this.pending.length < this.win) continue;
      let sum = 0;
      for (const v of this.pending) sum += v * v;
      const rms = Math.sqrt(sum / this.pending.length);
      this.pending = [];
      this.processedMs += 20;
      if (rms >= this.threshold) {
        this.voicedMs += 20;
        this.silentMs = 0;
        if (!this.speaking && this.voicedMs >= this.startMs) {
          this.speaking = true;
          events.push({ type: 'speech_start', atMs: this.processedMs - this.voicedMs });
        }
      } else {
        this.silentMs += 20;
        if (!this.speaking) this.voicedMs = 0;
        if (this.speaking && this.silentMs >= this.silenceMs) {
          this.speaking = false;
          this.voicedMs = 0;
          events.push({ type: 'speech_end', atMs: this.processedMs });
        }
      }
    }
    return events;
  }
}
