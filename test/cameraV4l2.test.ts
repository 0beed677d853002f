import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { V4l2CameraScanner, v4l2CameraOptionsSchema, type V4l2CameraOptions } from '../hal/camera/v4l2CameraScanner.js';
import { STREAM_FRAMES, loadFrame, rawStream } from './support/frames.js';
import { phoneFrameSet } from './support/phoneFrames.js';
import { ScannerEvents } from './support/scannerEvents.js';

/*
 * The V4L2 driver against a stand-in capture command (test/support/frameSource.mjs)
 * that writes recorded frames on stdout: the same pipe, framing, decoding,
 * process supervision as with ffmpeg on a camera.
 */
const FRAME_SOURCE = join(import.meta.dirname, 'support', 'frameSource.mjs');
const FRAME_BYTES = 640 * 480;
const textOf = (file: string) => STREAM_FRAMES.find((f) => f.file === file)!.text!;

let dir: string;
const running: V4l2CameraScanner[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'citygate-camera-'));
  const repeat = (file: string, n: number) => Array<string>(n).fill(file);
  // Two passengers, each holding a code for 8 frames, with 8 empty frames between.
  writeFileSync(join(dir, 'passengers.raw'), rawStream([
    ...repeat('nocode-noise.png', 8), ...repeat('code-phone.png', 8), ...repeat('nocode-dark.png', 8), ...repeat('code-offline.png', 8),
  ]));
  writeFileSync(join(dir, 'one-code.raw'), rawStream(['code-straight.png']));
  writeFileSync(join(dir, 'empty.raw'), rawStream(['nocode-gradient.png']));
  // The Pi camera (rpicam-vid --codec yuv420) writes the Y plane and then quarter-size U and V planes.
  const y = loadFrame('code-angle-30.png').data;
  writeFileSync(join(dir, 'yuv420.raw'), Buffer.concat([y, Buffer.alloc(FRAME_BYTES / 2, 128)]));
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((scanner) => scanner.stop()));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function source(file: string, ...extra: string[]): string[] {
  return [process.execPath, FRAME_SOURCE, '--frames', join(dir, file), '--frame-bytes', '{bytes}', '--fps', '{fps}', ...extra];
}

async function started(options: Partial<V4l2CameraOptions>): Promise<ScannerEvents> {
  const parsed = v4l2CameraOptionsSchema.parse({ decodeIntervalMs: 0, releaseFrames: 3, releaseMs: 0, restartMinMs: 50, ...options });
  const bytes = String(parsed.pixelFormat === 'gray' ? FRAME_BYTES : (FRAME_BYTES * 3) / 2);
  const scanner = new V4l2CameraScanner({ ...parsed, command: parsed.command.map((arg) => arg.replace('{bytes}', bytes)) });
  running.push(scanner);
  const events = new ScannerEvents();
  await scanner.start(events.listener);
  return events;
}

describe('V4L2 camera driver on a capture process', () => {
  it('fills the device, size and rate into the default ffmpeg command', () => {
    const scanner = new V4l2CameraScanner(v4l2CameraOptionsSchema.parse({ device: '/dev/video2', fps: 20 }));
    expect(scanner.commandLine()).toEqual([
      'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'v4l2', '-framerate', '20', '-video_size', '640x480',
      '-i', '/dev/video2', '-pix_fmt', 'gray', '-f', 'rawvideo', '-',
    ]);
    expect(v4l2CameraOptionsSchema.safeParse({ device: 'video0' }).success).toBe(false);
  });

  it('takes a capture size and a region of interest inside it, and refuses a region outside the frame', () => {
    const region = { x: 320, y: 180, width: 640, height: 360 };
    expect(v4l2CameraOptionsSchema.parse({ width: 1280, height: 720, region })).toMatchObject({ width: 1280, height: 720, region });
    const outside = v4l2CameraOptionsSchema.safeParse({ region });
    expect(outside.success).toBe(false);
    expect(outside.error?.issues[0]).toMatchObject({ path: ['region'], message: 'region 640x360 at (320, 180) reaches outside the 640x480 frame' });
    expect(v4l2CameraOptionsSchema.safeParse({ region: { x: 0, y: 0, width: 8, height: 100 } }).success).toBe(false);
  });

  it('streams frames: each passenger is one code event, however many frames show it', async () => {
    const events = await started({ command: source('passengers.raw'), fps: 30 });
    // The source loops: the first round gives two events, the second round two more.
    await events.until((e) => e.codes().length >= 4);
    expect(events.codes().slice(0, 4)).toEqual([textOf('code-phone.png'), textOf('code-offline.png'), textOf('code-phone.png'), textOf('code-offline.png')]);
    expect(events.health()[0]).toEqual({ healthy: true, detail: 'capturing 640x480 from /dev/video0' });
  });

  it('a binary payload (a transport code) comes through as its bytes, a dark-mode phone as its text', async () => {
    const [binary, dark] = [...phoneFrameSet({ seed: 11, perCase: 1, cases: ['binary', 'dark-mode'] })];
    writeFileSync(join(dir, 'phones.raw'), Buffer.concat([binary!.frame.data, binary!.frame.data, dark!.frame.data, dark!.frame.data]));
    const events = await started({ command: source('phones.raw'), fps: 30, releaseFrames: 1 });
    await events.until((e) => e.events.some((event) => event.type === 'binary') && e.codes().length >= 1);
    const bytes = events.events.flatMap((e) => (e.type === 'binary' ? [Buffer.from(e.bytes).toString('hex')] : []));
    expect(bytes[0]).toBe(binary!.expected.kind === 'binary' ? Buffer.from(binary!.expected.bytes).toString('hex') : 'a binary frame');
    expect(events.codes()[0]).toBe(dark!.expected.kind === 'text' ? dark!.expected.text : 'a text frame');
  });

  it('reads the Y plane of yuv420p frames (rpicam-vid)', async () => {
    const events = await started({ command: source('yuv420.raw'), pixelFormat: 'yuv420p', fps: 30 });
    await events.until((e) => e.codes().length >= 1);
    expect(events.codes()[0]).toBe(textOf('code-angle-30.png'));
  });

  it('drops frames that arrive while a decode waits, rather than queueing them', async () => {
    const scanner = new V4l2CameraScanner(
      v4l2CameraOptionsSchema.parse({ command: source('empty.raw').map((a) => a.replace('{bytes}', String(FRAME_BYTES))), fps: 120, decodeIntervalMs: 200 }),
    );
    running.push(scanner);
    await scanner.start(() => {});
    const deadline = Date.now() + 20_000;
    while (scanner.counts.received < 60 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const { received, decoded, dropped } = scanner.counts;
    expect(received).toBeGreaterThanOrEqual(60);
    expect(dropped).toBeGreaterThan(0);
    // Every frame is either decoded, dropped, or the one waiting now.
    expect(received - decoded - dropped).toBeLessThanOrEqual(1);
    expect(decoded).toBeLessThan(received / 2);
  });

  it('a capture process that dies is reported with its stderr and restarted', async () => {
    const events = await started({ command: source('one-code.raw', '--count', '3', '--exit-code', '1', '--stderr', '[video4linux2] VIDIOC_DQBUF: No such device'), fps: 30 });
    // Decoding runs on a worker thread, so the code may come after the restart: wait for it, and for a third run.
    await events.until((e) => e.health().filter((h) => h.healthy).length >= 3 && e.codes().length >= 1);
    const [up, down, upAgain] = events.health();
    expect(up!.healthy).toBe(true);
    expect(down!.healthy).toBe(false);
    expect(down!.detail).toMatch(/exited \(code 1\): \[video4linux2\] VIDIOC_DQBUF: No such device; restarting in 50 ms/);
    expect(upAgain!.healthy).toBe(true);
    // Both runs showed the same code with no gap: the restarted stream continues one presentation.
    expect(events.codes()).toEqual([textOf('code-straight.png')]);
  });

  it('backs off while the capture command keeps failing, and names a missing command', async () => {
    const events = await started({ command: [join(dir, 'no-such-ffmpeg')], restartMinMs: 20, restartMaxMs: 80 });
    await events.until((e) => e.health().length >= 4);
    const details = events.health().map((h) => h.detail);
    expect(events.health().every((h) => !h.healthy)).toBe(true);
    expect(details[0]).toMatch(/capture command not found: .*no-such-ffmpeg/);
    expect(details.slice(0, 4).map((d) => Number(/restarting in (\d+) ms/.exec(d)![1]))).toEqual([20, 40, 80, 80]);
  });

  it('a capture process that stops sending frames is killed and restarted', async () => {
    const events = await started({ command: source('empty.raw', '--count', '2', '--hang'), fps: 30, stallMs: 300 });
    await events.until((e) => e.health().filter((h) => h.healthy).length >= 2);
    const down = events.health().find((h) => !h.healthy)!;
    expect(down.detail).toMatch(/^no frame from \/dev\/video0 for 300 ms \(capture command killed\); restarting in 50 ms$/);
  });
});
