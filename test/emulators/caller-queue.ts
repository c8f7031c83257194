/** Caller speech waiting to go out in paced `media` frames; shared by the Twilio and Exotel call emulators. */
export class CallerQueue {
  private readonly chunks: Buffer[] = [];
  /** Bytes still queued. */
  queued = 0;

  /** Queue `bytes` (kept by reference: pass a copy if the caller may reuse it). */
  push(bytes: Buffer): void {
    this.chunks.push(bytes);
    this.queued += bytes.length;
  }

  /** Copy queued bytes into the start of `frame` (up to its length); returns how many were copied. */
  fill(frame: Buffer): number {
    let filled = 0;
    while (filled < frame.length && this.chunks.length > 0) {
      const head = this.chunks[0]!;
      const n = Math.min(frame.length - filled, head.length);
      head.copy(frame, filled, 0, n);
      filled += n;
      if (n === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(n);
    }
    this.queued -= filled;
    return filled;
  }
}
