/**
 * Audio chunks held until whoever consumes them is ready (caller audio while a provider connects or a
 * failover is under way; caller audio a provider leg gets before its session is configured). At most
 * `maxBytes` are kept: older chunks are dropped first, and the newest chunk is always kept. What is held
 * is handed over in order.
 */
export class HeldAudio {
  private chunks: Buffer[] = [];
  private bytes = 0;

  /** @param maxBytes the most bytes to hold (e.g. `ms × bytesPerMs(format)` for a duration). */
  constructor(private readonly maxBytes: number) {}

  get isEmpty(): boolean {
    return this.chunks.length === 0;
  }

  /** Hold `chunk` (bytes of any format; never copied), dropping the oldest chunks beyond `maxBytes`. */
  hold(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes > this.maxBytes && this.chunks.length > 1) this.bytes -= this.chunks.shift()!.length;
  }

  /** Everything held, oldest first; nothing is held afterwards. */
  take(): Buffer[] {
    const chunks = this.chunks;
    this.chunks = [];
    this.bytes = 0;
    return chunks;
  }
}
