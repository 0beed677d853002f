import type { DecodedCode } from './decodedCode.js';
import type { GreyFrame } from './greyFrame.js';
import { QrFrameDecoder, type QrDecoderOptions } from './qrFrameDecoder.js';

export interface FrameResult {
  code: DecodedCode | undefined;
  /** CPU time of the decode itself, in milliseconds (not the wait for a thread). */
  decodeMs: number;
}

/**
 * Where a camera's frames are decoded. `decode` reads the frame's pixels
 * before it returns (the driver reuses its buffers), so the caller may let the
 * frame go at once; one decode at a time.
 */
export interface FrameDecoding {
  /** Ready to decode: the decoder is loaded (rejects with the reason when it cannot be). */
  ready(): Promise<void>;
  decode(frame: GreyFrame): Promise<FrameResult>;
  close(): Promise<void>;
}

/** Decoding on the calling thread: for stills and tools, where nothing else waits on the event loop. */
export class InThreadDecoding implements FrameDecoding {
  private readonly decoder: Promise<QrFrameDecoder>;

  constructor(options: QrDecoderOptions) {
    this.decoder = QrFrameDecoder.create(options);
    // A load failure is reported by ready() and decode(), not as an unhandled rejection.
    this.decoder.catch(() => {});
  }

  async ready(): Promise<void> {
    await this.decoder;
  }

  async decode(frame: GreyFrame): Promise<FrameResult> {
    const decoder = await this.decoder;
    const started = performance.now();
    const code = decoder.decode(frame);
    return { code, decodeMs: performance.now() - started };
  }

  async close(): Promise<void> {}
}
