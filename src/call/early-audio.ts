/**
 * Caller audio held while no provider leg can take it (the provider is connecting, or a failover is
 * under way): the newest `maxMs` of it is kept, older chunks are dropped first, and what is held
 * is handed over in order once a leg is ready.
 */
import { durationMs, type AudioFormat } from '../audio/format';

export class EarlyAudio {
  private chunks: Buffer[] = [];
  private bytes = 0;

  /** @param format the carrier's format (to tell a chunk's duration); @param maxMs how much to keep. */
  constructor(
    private readonly format: AudioFormat,
    private readonly maxMs: number,
  ) {}

  get isEmpty(): boolean {
    return this.chunks.length === 0;
  }

  hold(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    const maxBytes = (this.maxMs * chunk.length) / Math.max(1, durationMs(this.format, chunk.length));
    while (this.bytes > maxBytes && this.chunks.length > 1) this.bytes -= this.chunks.shift()!.length;
  }

  /** Everything held, oldest first; nothing is held afterwards. */
  take(): Buffer[] {
    const chunks = this.chunks;
    this.chunks = [];
    this.bytes = 0;
    return chunks;
  }
}
