import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Webcam, WebcamOptions } from 'node-webcam';
import { z } from 'zod';
import type { CodeScanner, CodeScannerEvent } from '../codeScanner.js';
import { FrameScanner } from './frameScanner.js';
import { MAX_FRAME_SIDE } from './greyFrame.js';
import { decodePngToGrey } from './pngGrey.js';

export const nodeWebcamOptionsSchema = z.strictObject({
  /** node-webcam puts this into a shell command (fswebcam -d ...): only plain path characters. */
  device: z.string().regex(/^\/dev\/[\w./-]+$/, 'a device path such as /dev/video0').default('/dev/video0'),
  width: z.number().int().min(16).max(MAX_FRAME_SIDE).default(640),
  height: z.number().int().min(16).max(MAX_FRAME_SIDE).default(480),
  /** Time between the end of one still and the start of the next. */
  intervalMs: z.number().int().min(0).max(60_000).default(200),
  /** Frames fswebcam throws away before the still, so exposure settles (--skip). */
  skipFrames: z.number().int().min(0).max(100).default(2),
  tryHarder: z.boolean().default(true),
  releaseFrames: z.number().int().min(1).max(100).default(2),
  releaseMs: z.number().int().min(0).max(60_000).default(1000),
});

export type NodeWebcamOptions = z.output<typeof nodeWebcamOptionsSchema>;

/**
 * What node-webcam is asked for: an uncompressed-ish PNG (zlib level 1), grey,
 * no banner, because the gate reads PNG with node:zlib alone (pngGrey.ts);
 * fswebcam writes only JPEG or PNG, and JPEG would need a decoder dependency.
 */
export function webcamOptionsOf(options: NodeWebcamOptions): WebcamOptions {
  return {
    width: options.width,
    height: options.height,
    output: 'png',
    quality: 1,
    delay: 0,
    device: options.device,
    callbackReturn: 'location',
    verbose: false,
    greyscale: true,
    skip: options.skipFrames > 0 ? options.skipFrames : false,
  };
}

/**
 * Fallback camera scanner for cameras that only work through node-webcam
 * (fswebcam, Debian package `fswebcam`): one still per interval, written to a
 * private temp file, read back and decoded. One process per still, so it is
 * slower than the V4L2 stream; the same decoder and dedup apply.
 */
export class NodeWebcamScanner implements CodeScanner {
  private listener: ((event: CodeScannerEvent) => void) | undefined;
  private webcam: Webcam | undefined;
  private scanner: FrameScanner | undefined;
  private dir: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private capturing: Promise<void> | undefined;
  private healthy: boolean | undefined;
  private lastDetail = '';

  constructor(private readonly options: NodeWebcamOptions) {}

  async start(listener: (event: CodeScannerEvent) => void): Promise<void> {
    this.listener = listener;
    let NodeWebcam: (typeof import('node-webcam'))['default'];
    try {
      NodeWebcam = (await import('node-webcam')).default;
    } catch (error) {
      this.setHealth(false, `node-webcam cannot be loaded: ${(error as Error).message}`);
      return;
    }
    this.webcam = NodeWebcam.create(webcamOptionsOf(this.options));
    this.scanner = new FrameScanner({ ...this.options, decodeIntervalMs: 0 }, (text) => this.listener?.({ type: 'code', text }));
    this.dir = await mkdtemp(join(tmpdir(), 'citygate-webcam-'));
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.capturing;
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.listener = undefined;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.capturing = this.captureOnce().finally(() => {
        this.capturing = undefined;
        if (this.running) this.schedule(this.options.intervalMs);
      });
    }, delayMs);
  }

  private async captureOnce(): Promise<void> {
    const still = join(this.dir!, 'still.png');
    await rm(still, { force: true });
    const error = await new Promise<Error | null>((resolve) => this.webcam!.capture(still, (err) => resolve(err)));
    if (!this.running) return;
    if (error) {
      this.setHealth(false, `fswebcam could not take a still from ${this.options.device}: ${error.message.trim().slice(-300)}`);
      return;
    }
    let file: Buffer;
    try {
      file = await readFile(still);
    } catch (readError) {
      this.setHealth(false, `fswebcam reported a still but it cannot be read: ${(readError as Error).message}`);
      return;
    }
    const result = decodePngToGrey(file);
    if (!result.ok) {
      this.setHealth(false, `the still from ${this.options.device} is unreadable: ${result.reason}`);
      return;
    }
    this.setHealth(true, `taking ${result.frame.width}x${result.frame.height} stills from ${this.options.device}`);
    this.scanner!.scan(result.frame);
  }

  private setHealth(healthy: boolean, detail: string): void {
    if (healthy === this.healthy && detail === this.lastDetail) return;
    this.healthy = healthy;
    this.lastDetail = detail;
    this.listener?.({ type: 'health', healthy, detail });
  }
}
