import { CodeDedup, type DedupOptions } from './codeDedup.js';
import { codeKey, type DecodedCode } from './decodedCode.js';
import { DecoderThread } from './decoderThread.js';
import type { FrameDecoding, FrameResult } from './frameDecoding.js';
import type { GreyFrame } from './greyFrame.js';
import type { QrDecoderOptions } from './qrFrameDecoder.js';

export interface FrameScannerOptions extends DedupOptions, QrDecoderOptions {
  /** Least time between the starts of two decodes: caps the CPU a camera takes from the gate (66 ms = 15 decodes a second). */
  decodeIntervalMs: number;
}

export interface FrameCounts {
  /** Frames offered by the camera. */
  received: number;
  /** Frames handed to the decoder. */
  decoded: number;
  /** Frames replaced by a newer one before the decoder got to them. */
  dropped: number;
}

export interface FrameScannerEvents {
  /** A code that is a new presentation (see CodeDedup). */
  code(code: DecodedCode): void;
  /** Each frame as it arrives (valid only during the call: the driver reuses its buffers), for the technician's `camera test`. */
  frame?(frame: GreyFrame): void;
  /** Each decode's outcome, for the technician's `camera test`. */
  decoded?(result: FrameResult): void;
  /** The decoder failed (with why), or works again after a failure (undefined): transitions only. */
  decoderTrouble?(detail: string | undefined): void;
}

/** What a technician's tool watches besides the codes: each frame and each decode. */
export type CameraObserver = Pick<FrameScannerEvents, 'frame' | 'decoded'>;

/**
 * Decodes the newest frame a camera offers, never a backlog: a frame that
 * arrives while a decode waits or runs replaces the waiting one. Decoding runs
 * off the event loop (a worker thread by default, see decoderThread.ts), so
 * the capture stream keeps flowing; a decoded code goes through the dedup
 * before it is reported.
 */
export class FrameScanner {
  private readonly decoding: FrameDecoding;
  private readonly dedup: CodeDedup;
  private pending: GreyFrame | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private stopped = false;
  private trouble: string | undefined;
  private lastDecodeMs = Number.NEGATIVE_INFINITY;
  readonly counts: FrameCounts = { received: 0, decoded: 0, dropped: 0 };

  constructor(
    private readonly options: FrameScannerOptions,
    private readonly events: FrameScannerEvents,
    private readonly nowMs: () => number = () => performance.now(),
    decoding?: FrameDecoding,
  ) {
    this.decoding = decoding ?? new DecoderThread({ tryHarder: options.tryHarder, region: options.region });
    this.dedup = new CodeDedup(options);
  }

  /** Loads the decoder; rejects with the reason when it cannot be loaded (an installation fault). */
  ready(): Promise<void> {
    return this.decoding.ready();
  }

  /** A frame from a stream: decoded when the decoder is free and the interval allows, unless a newer one comes first. */
  offer(frame: GreyFrame): void {
    if (this.stopped) return;
    this.counts.received++;
    this.events.frame?.(frame);
    if (this.pending) this.counts.dropped++;
    this.pending = frame;
    this.schedule();
  }

  /** Decodes one frame now, outside the stream (a still from node-webcam); resolves once it is decoded. */
  async scan(frame: GreyFrame): Promise<void> {
    if (this.stopped) return;
    this.counts.received++;
    this.events.frame?.(frame);
    this.counts.decoded++;
    await this.decodeNow(frame);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    await this.decoding.close();
  }

  private schedule(): void {
    if (this.timer || this.busy || !this.pending) return;
    const wait = Math.max(0, this.lastDecodeMs + this.options.decodeIntervalMs - this.nowMs());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const frame = this.pending;
      this.pending = undefined;
      if (!frame || this.stopped) return;
      this.counts.decoded++;
      void this.decodeNow(frame).finally(() => this.schedule());
    }, wait);
  }

  private async decodeNow(frame: GreyFrame): Promise<void> {
    this.busy = true;
    this.lastDecodeMs = this.nowMs();
    try {
      const result = await this.decoding.decode(frame);
      if (this.stopped) return;
      this.setTrouble(undefined);
      this.events.decoded?.(result);
      const key = result.code === undefined ? undefined : codeKey(result.code);
      if (this.dedup.see(key, this.nowMs()) !== undefined) this.events.code(result.code!);
    } catch (error) {
      if (!this.stopped) this.setTrouble((error as Error).message);
    } finally {
      this.busy = false;
    }
  }

  private setTrouble(detail: string | undefined): void {
    if (detail === this.trouble) return;
    this.trouble = detail;
    this.events.decoderTrouble?.(detail);
  }
}
