import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Webcam, WebcamOptions } from 'node-webcam';
import { z } from 'zod';
import type { CodeScanner, CodeScannerEvent } from '../codeScanner.js';
import { captureRegionSchema, regionProblem } from './captureRegion.js';
import { codeEventOf } from './codeEvent.js';
import { FrameScanner, type CameraObserver } from './frameScanner.js';
import { MAX_FRAME_SIDE } from './greyFrame.js';
import { decodePngToGrey } from './pngGrey.js';

export const nodeWebcamOptionsSchema = z
  .strictObject({
    /** node-webcam puts this into a shell command (fswebcam -d ...): only plain path characters. */
    device: z.string().regex(/^\/dev\/[\w./-]+$/, 'a device path such as /dev/video0').default('/dev/video0'),
    width: z.number().int().min(16).max(MAX_FRAME_SIDE).default(640),
    height: z.number().int().min(16).max(MAX_FRAME_SIDE).default(480),
    /** Decode only this part of each still (pixels of the still); the whole still when absent. */
    region: captureRegionSchema.optional(),
    /** Time between the end of one still and the start of the next. */
    intervalMs: z.number().int().min(0).max(60_000).default(200),
    /** Frames fswebcam throws away before the still, so exposure settles (--skip). */
    skipFrames: z.number().int().min(0).max(100).default(2),
    tryHarder: z.boolean().default(true),
    releaseFrames: z.number().int().min(1).max(100).default(2),
    releaseMs: z.number().int().min(0).max(60_000).default(1000),
  })
  .superRefine((options, context) => {
    const problem = options.region && regionProblem(options.region, options.width, options.height);
    if (problem) context.addIssue({ code: 'custom', path: ['region'], message: problem });
  });

export type NodeWebcamOptions = z.output<typeof nodeWebcamOptionsSchema>;

/** fswebcam gives up on a camera after 10 s a frame (its --timeout); a still still running after this is hung. */
const STILL_TIMEOUT_MS = 30_000;
/** How long a still process has to leave after SIGTERM (stop, hung) before it is killed. */
const TERM_GRACE_MS = 2_000;
const STDERR_KEPT = 16 * 1024;

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
  private still: ChildProcess | undefined;
  private healthy: boolean | undefined;
  private lastDetail = '';
  private decoderProblem: string | undefined;

  constructor(
    private readonly options: NodeWebcamOptions,
    private readonly observer: CameraObserver = {},
  ) {}

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
    this.scanner = new FrameScanner({ ...this.options, decodeIntervalMs: 0 }, {
      ...this.observer,
      code: (code) => this.listener?.(codeEventOf(code)),
      decoderTrouble: (detail) => {
        this.decoderProblem = detail;
        if (detail !== undefined) this.setHealth(false, `the QR decoder failed: ${detail}`);
      },
    });
    this.scanner.ready().catch(() => {});
    this.dir = await mkdtemp(join(tmpdir(), 'citygate-webcam-'));
    this.running = true;
    this.schedule(0);
  }

  /**
   * A still being taken is not waited for: its process (fswebcam) is ended, and waited for no longer
   * than twice TERM_GRACE_MS (one stuck in the camera's kernel driver survives even SIGKILL).
   */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    if (this.still) endStill(this.still);
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([this.capturing, new Promise((resolve) => (giveUp = setTimeout(resolve, 2 * TERM_GRACE_MS)))]);
    clearTimeout(giveUp);
    await this.scanner?.stop();
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
    const error = await this.takeStill(still);
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
    if (this.decoderProblem === undefined) this.setHealth(true, `taking ${result.frame.width}x${result.frame.height} stills from ${this.options.device}`);
    await this.scanner!.scan(result.frame);
  }

  /**
   * What node-webcam's capture() does (its shell command, then its check of stderr), with the process
   * in our hands: a stop ends it rather than waiting for the camera, and a hung one is ended too.
   */
  private takeStill(location: string): Promise<Error | null> {
    const webcam = this.webcam!;
    const command = webcam.generateSh(location);
    return new Promise((resolve) => {
      // A process group of its own: ending it reaches fswebcam whether or not the shell exec'd it.
      const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
      this.still = child;
      let stderr = '';
      let failed: Error | undefined;
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEPT);
      });
      const hung = setTimeout(() => {
        failed = new Error(`no still within ${STILL_TIMEOUT_MS / 1000} s (the camera hangs); the capture command was ended`);
        endStill(child);
      }, STILL_TIMEOUT_MS);
      child.once('error', (error) => (failed ??= error));
      child.once('close', (code, signal) => {
        clearTimeout(hung);
        if (this.still === child) this.still = undefined;
        if (failed) resolve(failed);
        else if (code !== 0) resolve(new Error(`Command failed (${signal ? `signal ${signal}` : `exit code ${code}`}): ${command}\n${stderr}`));
        else resolve(webcam.runCaptureValidations(stderr));
      });
    });
  }

  private setHealth(healthy: boolean, detail: string): void {
    if (healthy === this.healthy && detail === this.lastDetail) return;
    this.healthy = healthy;
    this.lastDetail = detail;
    this.listener?.({ type: 'health', healthy, detail });
  }
}

/** SIGTERM to the still's process group, SIGKILL if it is still there after TERM_GRACE_MS; our end of its stderr closed once it exits. */
function endStill(child: ChildProcess): void {
  const signal = (name: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, name);
    } catch {
      // Already gone.
    }
  };
  if (child.exitCode !== null || child.signalCode !== null) return;
  signal('SIGTERM');
  const force = setTimeout(() => signal('SIGKILL'), TERM_GRACE_MS);
  child.once('exit', () => {
    clearTimeout(force);
    // A process the shell started may still hold the pipe's other end.
    child.stderr?.destroy();
  });
}
