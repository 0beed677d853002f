import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CodeScanner } from '../../hal/codeScanner.js';
import { codeKey, hexOf } from '../../hal/camera/decodedCode.js';
import type { CameraObserver } from '../../hal/camera/frameScanner.js';
import { encodeGreyPng } from '../../hal/camera/greyPng.js';
import type { GreyFrame } from '../../hal/camera/greyFrame.js';
import { NodeWebcamScanner, nodeWebcamOptionsSchema } from '../../hal/camera/nodeWebcamScanner.js';
import { V4l2CameraScanner, v4l2CameraOptionsSchema } from '../../hal/camera/v4l2CameraScanner.js';
import { loadConfig } from './config.js';
import { InputError, parseWith } from './settingsSchema.js';

export interface CameraTestOptions {
  config?: string;
  device?: string;
  seconds: string;
  save: string;
  json?: boolean;
}

/** What `citygate camera test` found: enough for a technician to tell a working camera from a broken one. */
export interface CameraTestReport {
  result: 'ok' | 'no-frames';
  driver: 'v4l2' | 'node-webcam';
  device: string;
  size: string;
  seconds: number;
  frames: number;
  /** Frames a second the camera delivered. */
  fps: number;
  decoded: number;
  /** CPU time per decode, milliseconds. */
  decodeMs: { p50: number; p99: number; max: number } | null;
  /** Each code read (its text, or hex for a binary payload) and the number of frames it was read in. */
  codes: ({ text: string; frames: number } | { hex: string; frames: number })[];
  /** The last frame, saved as a PNG for a look. */
  savedFrame: string | null;
  /** What the driver reported about the camera, in order. */
  health: string[];
}

interface Camera {
  driver: 'v4l2' | 'node-webcam';
  device: string;
  size: string;
  /** Whether the capture reads `device` itself (a custom command may not). */
  opensDevice: boolean;
  create(observer: CameraObserver): CodeScanner;
}

const CAMERA_DRIVERS = ['v4l2', 'node-webcam'];

/** The camera to test: the config's first camera (or the default V4L2 camera), with --device applied. */
function cameraOf(options: CameraTestOptions): Camera {
  let entry: Record<string, unknown> = { driver: 'v4l2' };
  let source = 'camera';
  if (options.config !== undefined) {
    const config = loadConfig(options.config);
    const index = config.devices.scanners.findIndex((s) => CAMERA_DRIVERS.includes(s.driver));
    if (index < 0) throw new InputError(`${options.config}: devices.scanners has no camera (driver v4l2 or node-webcam)`);
    entry = config.devices.scanners[index]!;
    source = `${options.config}: devices.scanners.${index}`;
  }
  const { driver, ...settings } = entry;
  if (options.device !== undefined) settings.device = options.device;
  if (driver === 'node-webcam') {
    const parsed = parseWith(nodeWebcamOptionsSchema, settings, source);
    return { driver, device: parsed.device, size: `${parsed.width}x${parsed.height}`, opensDevice: true, create: (observer) => new NodeWebcamScanner(parsed, observer) };
  }
  const parsed = parseWith(v4l2CameraOptionsSchema, settings, source);
  return {
    driver: 'v4l2',
    device: parsed.device,
    size: `${parsed.width}x${parsed.height}`,
    opensDevice: parsed.command.some((arg) => arg.includes('{device}')),
    create: (observer) => new V4l2CameraScanner(parsed, observer),
  };
}

/** Why `device` is not a camera the capture can open, or undefined. */
function deviceProblem(device: string): string | undefined {
  if (!existsSync(device)) return `no camera at ${device}: the device does not exist (is the camera plugged in? list them with \`ls /dev/video*\` or \`v4l2-ctl --list-devices\`)`;
  if (!statSync(device).isCharacterDevice()) return `${device} is not a video device (not a character device)`;
  return undefined;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * A few seconds of the live camera through the gate's own driver and decoder:
 * frames and frame rate, decode time, what was read, and the last frame saved
 * as a PNG. Exit 0 when frames came, 1 when none did (the report says why),
 * 2 for a usage or config error.
 */
export async function cameraTestCommand(options: CameraTestOptions): Promise<{ status: number; report: CameraTestReport; text: string }> {
  const seconds = Number(options.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 300) throw new InputError(`--seconds ${JSON.stringify(options.seconds)} is not a number of seconds (up to 300)`);
  const camera = cameraOf(options);
  const report: CameraTestReport = {
    result: 'no-frames', driver: camera.driver, device: camera.device, size: camera.size, seconds, frames: 0, fps: 0, decoded: 0,
    decodeMs: null, codes: [], savedFrame: null, health: [],
  };
  const problem = camera.opensDevice ? deviceProblem(camera.device) : undefined;
  if (problem) {
    report.health.push(problem);
    return { status: 1, report, text: textOf(report) };
  }

  let last: GreyFrame | undefined;
  let firstMs = 0;
  let lastMs = 0;
  const decodeTimes: number[] = [];
  const reads = new Map<string, CameraTestReport['codes'][number]>();
  const scanner = camera.create({
    frame: (frame) => {
      const now = performance.now();
      if (report.frames === 0) firstMs = now;
      lastMs = now;
      report.frames++;
      // The driver reuses its buffer: keep a copy of the newest frame for the look.
      if (!last || last.data.length !== frame.data.length) last = { width: frame.width, height: frame.height, data: new Uint8Array(frame.width * frame.height) };
      last.data.set(frame.data.subarray(0, frame.width * frame.height));
    },
    decoded: (result) => {
      decodeTimes.push(result.decodeMs);
      if (!result.code) return;
      const key = codeKey(result.code);
      const seen = reads.get(key) ?? (result.code.text !== undefined ? { text: result.code.text, frames: 0 } : { hex: hexOf(result.code.bytes), frames: 0 });
      seen.frames++;
      reads.set(key, seen);
    },
  });
  await scanner.start((event) => {
    if (event.type === 'health') report.health.push(`${event.healthy ? 'ok' : 'fault'}: ${event.detail}`);
  });
  await new Promise((done) => setTimeout(done, seconds * 1000));
  await scanner.stop();

  report.decoded = decodeTimes.length;
  report.fps = report.frames > 1 ? round2(((report.frames - 1) * 1000) / (lastMs - firstMs)) : 0;
  if (decodeTimes.length > 0) {
    const sorted = decodeTimes.sort((a, b) => a - b);
    report.decodeMs = { p50: round2(percentile(sorted, 50)), p99: round2(percentile(sorted, 99)), max: round2(sorted.at(-1)!) };
  }
  report.codes = [...reads.values()];
  if (last) {
    report.savedFrame = resolve(options.save);
    await writeFile(report.savedFrame, encodeGreyPng(last));
  }
  if (report.frames > 0) report.result = 'ok';
  return { status: report.frames > 0 ? 0 : 1, report, text: textOf(report) };
}

function textOf(r: CameraTestReport): string {
  const lines = [`camera: ${r.driver} ${r.device} ${r.size}, ${r.seconds} s`];
  if (r.frames === 0) {
    lines.push(`FAULT: no frame from ${r.device}`);
    for (const h of r.health) lines.push(`  ${h}`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(`frames: ${r.frames} (${r.fps} a second), decoded ${r.decoded}`);
  if (r.decodeMs) lines.push(`decode time: p50 ${r.decodeMs.p50} ms, p99 ${r.decodeMs.p99} ms, max ${r.decodeMs.max} ms`);
  if (r.codes.length === 0) lines.push('codes read: none (hold a code 20-40 cm in front of the camera)');
  for (const code of r.codes) {
    const shown = 'text' in code ? code.text : `hex ${code.hex}`;
    lines.push(`code read in ${code.frames} frames: ${shown.length > 64 ? `${shown.slice(0, 64)}...` : shown}`);
  }
  if (r.savedFrame) lines.push(`last frame saved: ${r.savedFrame}`);
  for (const h of r.health) if (h.startsWith('fault')) lines.push(`  ${h}`);
  return `${lines.join('\n')}\n`;
}
