import { CodeDedup, type DedupOptions } from './codeDedup.js';
import type { GreyFrame } from './greyFrame.js';
import { QrFrameDecoder, type QrDecoderOptions } from './qrFrameDecoder.js';

export interface FrameScannerOptions extends DedupOptions, QrDecoderOptions {
  /** Least time between two decodes: caps the CPU a camera takes from the gate (66 ms = 15 decodes a second). */
  decodeIntervalMs: number;
}

export interface FrameCounts {
  /** Frames offered by the camera. */
  received: number;
  decoded: number;
  /** Frames replaced by a newer one before the decoder got to them. */
  dropped: number;
}

/**
 * Decodes the newest frame a camera offers, never a backlog: a frame that
 * arrives while a decode is waiting replaces the waiting one. Decoding runs
 * on the main thread from a timer, so the capture stream keeps flowing in
 * between; a decoded code goes through the dedup before it is reported.
 */
export class FrameScanner {
  private readonly decoder: QrFrameDecoder;
  private readonly dedup: CodeDedup;
  private pending: GreyFrame | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastDecodeMs = Number.NEGATIVE_INFINITY;
  readonly counts: FrameCounts = { received: 0, decoded: 0, dropped: 0 };

  constructor(
    private readonly options: FrameScannerOptions,
    private readonly onCode: (text: string) => void,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.decoder = new QrFrameDecoder(options);
    this.dedup = new CodeDedup(options);
  }

  offer(frame: GreyFrame): void {
    this.counts.received++;
    if (this.pending) this.counts.dropped++;
    this.pending = frame;
    if (this.timer) return;
    const wait = Math.max(0, this.lastDecodeMs + this.options.decodeIntervalMs - this.nowMs());
    this.timer = setTimeout(() => this.decodePending(), wait);
  }

  /** Decodes one frame now, outside the stream (a still from node-webcam). */
  scan(frame: GreyFrame): void {
    this.counts.received++;
    this.decodeNow(frame);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private decodePending(): void {
    this.timer = undefined;
    const frame = this.pending;
    this.pending = undefined;
    if (frame) this.decodeNow(frame);
  }

  private decodeNow(frame: GreyFrame): void {
    this.lastDecodeMs = this.nowMs();
    this.counts.decoded++;
    const fresh = this.dedup.see(this.decoder.decode(frame), this.nowMs());
    if (fresh !== undefined) this.onCode(fresh);
  }
}
