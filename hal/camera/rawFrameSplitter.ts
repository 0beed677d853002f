import type { GreyFrame } from './greyFrame.js';

/** Raw pixel layouts a capture command may write: 8-bit grey, or planar YUV 4:2:0 whose Y plane is the grey image. */
export type RawPixelFormat = 'gray' | 'yuv420p';

export function rawFrameBytes(width: number, height: number, format: RawPixelFormat): number {
  return format === 'gray' ? width * height : width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}

/**
 * Cuts a capture process's stdout into frames by size. Two buffers: bytes go
 * into one while the other holds the last complete frame, so the frame handed
 * to `onFrame` stays intact until the next one completes (the consumer decodes
 * the newest frame and lets older ones go).
 */
export class RawFrameSplitter {
  private readonly frameBytes: number;
  private filling: Buffer;
  private ready: Buffer;
  private filled = 0;

  constructor(
    private readonly width: number,
    private readonly height: number,
    format: RawPixelFormat,
    private readonly onFrame: (frame: GreyFrame) => void,
  ) {
    this.frameBytes = rawFrameBytes(width, height, format);
    this.filling = Buffer.alloc(this.frameBytes);
    this.ready = Buffer.alloc(this.frameBytes);
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      const taken = chunk.copy(this.filling, this.filled, offset, offset + this.frameBytes - this.filled);
      offset += taken;
      this.filled += taken;
      if (this.filled === this.frameBytes) {
        [this.ready, this.filling] = [this.filling, this.ready];
        this.filled = 0;
        this.onFrame({ width: this.width, height: this.height, data: this.ready.subarray(0, this.width * this.height) });
      }
    }
  }

  /** A new capture process starts on a frame boundary: forget a partial frame. */
  reset(): void {
    this.filled = 0;
  }
}
