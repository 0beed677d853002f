import { spawn, type ChildProcess } from 'node:child_process';
import { z } from 'zod';
import type { CodeScanner, CodeScannerEvent } from '../codeScanner.js';
import { captureRegionSchema, regionProblem } from './captureRegion.js';
import { codeEventOf } from './codeEvent.js';
import { FrameScanner, type CameraObserver, type FrameCounts } from './frameScanner.js';
import { MAX_FRAME_SIDE } from './greyFrame.js';
import { RawFrameSplitter } from './rawFrameSplitter.js';

/** ffmpeg reading a V4L2 camera and writing raw 8-bit grey frames on stdout (Debian package `ffmpeg`). */
export const FFMPEG_V4L2_COMMAND = [
  'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin',
  '-f', 'v4l2', '-framerate', '{fps}', '-video_size', '{width}x{height}', '-i', '{device}',
  '-pix_fmt', 'gray', '-f', 'rawvideo', '-',
];

export const v4l2CameraOptionsSchema = z
  .strictObject({
    device: z.string().regex(/^\/dev\/\S+$/, 'a device path such as /dev/video0').default('/dev/video0'),
    /** Capture size. The decoder needs about 2 px a module: 150 px for a holder code, 120 px for an issuer code; 1280x720 has twice the pixels across of 640x480 (README "Camera"). */
    width: z.number().int().min(16).max(MAX_FRAME_SIDE).default(640),
    height: z.number().int().min(16).max(MAX_FRAME_SIDE).default(480),
    /** Decode only this part of each frame (pixels of the captured frame); the whole frame when absent. */
    region: captureRegionSchema.optional(),
    fps: z.number().int().min(1).max(120).default(15),
    /** What the command writes: `gray`, or `yuv420p` (e.g. rpicam-vid --codec yuv420; the Y plane is used). */
    pixelFormat: z.enum(['gray', 'yuv420p']).default('gray'),
    /** argv of the long-lived capture process; {device} {width} {height} {fps} are filled in. */
    command: z.array(z.string().min(1)).min(1).default(FFMPEG_V4L2_COMMAND),
    tryHarder: z.boolean().default(true),
    decodeIntervalMs: z.number().int().min(0).max(2000).default(66),
    releaseFrames: z.number().int().min(1).max(100).default(3),
    releaseMs: z.number().int().min(0).max(60_000).default(1000),
    /** No complete frame for this long: the camera is hung, the process is restarted. */
    stallMs: z.number().int().min(100).max(60_000).default(5000),
    restartMinMs: z.number().int().min(10).max(60_000).default(500),
    restartMaxMs: z.number().int().min(10).max(600_000).default(30_000),
  })
  .superRefine((options, context) => {
    const problem = options.region && regionProblem(options.region, options.width, options.height);
    if (problem) context.addIssue({ code: 'custom', path: ['region'], message: problem });
  });

export type V4l2CameraOptions = z.output<typeof v4l2CameraOptionsSchema>;

const STDERR_TAIL_BYTES = 2048;
/** How long a capture process has to leave after SIGTERM before it is killed. */
const TERM_GRACE_MS = 2000;

/**
 * Camera scanner over one long-lived capture process (ffmpeg or GStreamer on
 * V4L2, or rpicam-vid) streaming raw frames on stdout. Frames are cut by size
 * and the newest is decoded; the process dying or stalling is reported with
 * the tail of its stderr and it is restarted with a doubling backoff.
 */
export class V4l2CameraScanner implements CodeScanner {
  private listener: ((event: CodeScannerEvent) => void) | undefined;
  private child: ChildProcess | undefined;
  private scanner: FrameScanner | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private stopping = false;
  private healthy: boolean | undefined;
  private decoderProblem: string | undefined;

  constructor(
    private readonly options: V4l2CameraOptions,
    private readonly observer: CameraObserver = {},
  ) {
    this.backoffMs = options.restartMinMs;
  }

  /** Frames seen, decoded and dropped since start (for the technician's status and tests). */
  get counts(): FrameCounts {
    return this.scanner?.counts ?? { received: 0, decoded: 0, dropped: 0 };
  }

  /** The capture argv with the placeholders filled in. */
  commandLine(): string[] {
    const { device, width, height, fps } = this.options;
    const values: Record<string, string> = { device, width: String(width), height: String(height), fps: String(fps) };
    return this.options.command.map((arg) => arg.replace(/\{(device|width|height|fps)\}/g, (_, key: string) => values[key]!));
  }

  async start(listener: (event: CodeScannerEvent) => void): Promise<void> {
    this.listener = listener;
    this.stopping = false;
    this.scanner = new FrameScanner(this.options, {
      ...this.observer,
      code: (code) => this.emit(codeEventOf(code)),
      decoderTrouble: (detail) => {
        this.decoderProblem = detail;
        this.setHealth(detail === undefined, detail === undefined ? this.capturingDetail() : `the QR decoder failed: ${detail}`);
      },
    });
    // The decoder first: frames that came while zxing-cpp was still loading would be dropped unread.
    try {
      await this.scanner.ready();
    } catch (error) {
      if (!this.stopping) this.setHealth(false, `the QR decoder cannot start, so the camera is not used: ${(error as Error).message}`);
      return;
    }
    if (this.stopping) return;
    this.launch();
  }

  /**
   * The capture process and whatever it started (a shell pipeline) are asked to leave, killed after
   * TERM_GRACE_MS, and our ends of their pipes closed: nothing of the camera outlives the stop, and
   * nothing it left behind holds the gate's process.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.stallTimer);
    const decoderStopped = this.scanner?.stop();
    const child = this.child;
    this.child = undefined;
    if (child) await endProcess(child);
    await decoderStopped;
    this.listener = undefined;
  }

  private launch(): void {
    const [file, ...args] = this.commandLine();
    // A process group of its own, so that a stop or a stall reaches every process of a capture pipeline.
    const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    let stderrTail = '';
    let stalled = false;
    let ended = false;
    const armStallTimer = (): void => {
      clearTimeout(this.stallTimer);
      this.stallTimer = setTimeout(() => {
        stalled = true;
        signalGroup(child, 'SIGKILL');
      }, this.options.stallMs);
    };
    const splitter = new RawFrameSplitter(this.options.width, this.options.height, this.options.pixelFormat, (frame) => {
      // Frames still in the pipe after a stop or a restart: not this run's.
      if (this.stopping || this.child !== child) return;
      armStallTimer();
      if (this.healthy !== true && this.decoderProblem === undefined) {
        this.backoffMs = this.options.restartMinMs;
        this.setHealth(true, this.capturingDetail());
      }
      this.scanner?.offer(frame);
    });
    const onEnd = (why: string): void => {
      if (ended) return;
      ended = true;
      clearTimeout(this.stallTimer);
      if (this.stopping || this.child !== child) return;
      this.child = undefined;
      const tail = lastLines(stderrTail);
      const cause = stalled ? `no frame from ${this.options.device} for ${this.options.stallMs} ms (capture command killed)` : why;
      this.setHealth(false, `${cause}${tail ? `: ${tail}` : ''}; restarting in ${this.backoffMs} ms`);
      this.restartTimer = setTimeout(() => this.launch(), this.backoffMs);
      this.backoffMs = Math.min(this.options.restartMaxMs, this.backoffMs * 2);
    };
    armStallTimer();
    child.stdout!.on('data', (chunk: Buffer) => splitter.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      onEnd(error.code === 'ENOENT' ? `capture command not found: ${file} (install it, e.g. the Debian package ffmpeg)` : `capture command ${file} failed to start: ${error.message}`);
    });
    child.on('close', (code, signal) => onEnd(`capture command ${file} exited (${signal ? `signal ${signal}` : `code ${code}`})`));
  }

  private capturingDetail(): string {
    return `capturing ${this.options.width}x${this.options.height} from ${this.options.device}`;
  }

  private setHealth(healthy: boolean, detail: string): void {
    this.healthy = healthy;
    this.emit({ type: 'health', healthy, detail });
  }

  private emit(event: CodeScannerEvent): void {
    this.listener?.(event);
  }
}

/** `signal` to the process group `child` leads (its own, see launch), or to the child alone if that fails. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) {
      process.kill(-child.pid, signal);
      return;
    }
  } catch {
    // The group is gone (or the pid was never a leader): the child itself, below.
  }
  child.kill(signal);
}

/**
 * SIGTERM, SIGKILL after TERM_GRACE_MS, then our ends of its pipes closed. A process that not even
 * SIGKILL ends (stuck in the camera's kernel driver) is not waited for beyond twice the grace: the
 * rest of the gate's stop (offline status, journal) goes on.
 */
async function endProcess(child: ChildProcess): Promise<void> {
  const running = (): boolean => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  if (running()) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    signalGroup(child, 'SIGTERM');
    const force = setTimeout(() => signalGroup(child, 'SIGKILL'), TERM_GRACE_MS);
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => (giveUp = setTimeout(resolve, 2 * TERM_GRACE_MS)))]);
    clearTimeout(force);
    clearTimeout(giveUp);
  }
  // Gone, but a process it started may still hold the pipes' other ends (or a frame may still be in them).
  child.stdout?.destroy();
  child.stderr?.destroy();
}

/** The last lines of a process's stderr, short enough for a health detail. */
function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ').slice(-300);
}
