import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePngToGrey } from '../hal/camera/pngGrey.js';
import { MANIFEST, loadFrame } from './support/frames.js';
import { greyJpeg, greyPng } from './support/imageFiles.js';
import { phoneFrameSet, type PhoneFrame } from './support/phoneFrames.js';

/*
 * The technician's camera commands, run as the built program: `camera decode`
 * on still images (DESIGN.md §5), and `camera test` against a camera that is
 * not there and against a stand-in capture command streaming phone frames
 * (test/support/frameSource.mjs, as the V4L2 driver tests use).
 */
const CLI = join(import.meta.dirname, '..', 'dist', 'bin', 'citygate.js');
const FRAME_SOURCE = join(import.meta.dirname, 'support', 'frameSource.mjs');
let dir: string;
let phone: PhoneFrame;
let dark: PhoneFrame;
let binary: PhoneFrame;

function citygate(args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const textOf = (frame: PhoneFrame): string => (frame.expected.kind === 'text' ? frame.expected.text : '');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'citygate-camera-cmd-'));
  [phone] = [...phoneFrameSet({ seed: 5, perCase: 1, cases: ['tilt-35'] })] as [PhoneFrame];
  [dark] = [...phoneFrameSet({ seed: 5, perCase: 1, cases: ['dark-mode'] })] as [PhoneFrame];
  [binary] = [...phoneFrameSet({ seed: 5, perCase: 1, cases: ['binary'] })] as [PhoneFrame];
  writeFileSync(join(dir, 'tilted.png'), greyPng(phone.frame));
  writeFileSync(join(dir, 'dark.jpg'), greyJpeg(dark.frame, 90));
  writeFileSync(join(dir, 'binary.png'), greyPng(binary.frame));
  writeFileSync(join(dir, 'empty.jpg'), greyJpeg(loadFrame('nocode-text.png'), 80));
  writeFileSync(join(dir, 'notes.txt'), 'not an image\n');
  writeFileSync(join(dir, 'cut.jpg'), greyJpeg(dark.frame, 90).subarray(0, 200));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('citygate camera decode', () => {
  it('prints one JSON line per file: text, hex for a binary payload, or text null; PNG and JPEG', () => {
    const fixture = join(import.meta.dirname, 'fixtures', 'frames', 'code-offline.png');
    const run = citygate(['camera', 'decode', 'tilted.png', 'dark.jpg', 'binary.png', 'empty.jpg', fixture]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toEqual([
      { file: 'tilted.png', text: textOf(phone) },
      { file: 'dark.jpg', text: textOf(dark) },
      { file: 'binary.png', hex: binary.expected.kind === 'binary' ? Buffer.from(binary.expected.bytes).toString('hex') : '' },
      { file: 'empty.jpg', text: null },
      { file: fixture, text: MANIFEST.frames.find((f) => f.file === 'code-offline.png')!.text },
    ]);
  });

  it('a file it cannot read gets a line with the reason, and exit 2; the other files are still decoded', () => {
    const run = citygate(['camera', 'decode', 'missing.png', 'notes.txt', 'cut.jpg', 'tilted.png']);
    expect(run.status).toBe(2);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines[0]).toEqual({ file: 'missing.png', text: null, error: 'no such file' });
    expect(lines[1]).toEqual({ file: 'notes.txt', text: null, error: 'not a PNG or JPEG file' });
    expect(lines[2]).toMatchObject({ file: 'cut.jpg', text: null, error: expect.stringMatching(/cannot be decoded|truncated|damaged/) });
    expect(lines[3]).toEqual({ file: 'tilted.png', text: textOf(phone) });
  });
});

describe('citygate camera test', () => {
  it('with no camera it fails, naming the device, and saves nothing', () => {
    const run = citygate(['camera', 'test', '--device', '/dev/video-citygate-absent', '--seconds', '1']);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/FAULT: no frame from \/dev\/video-citygate-absent/);
    expect(run.stdout).toMatch(/no camera at \/dev\/video-citygate-absent: the device does not exist/);
  });

  it('on a streaming camera: frames, frame rate, decode time, the code read and the last frame saved', () => {
    const frames = [...phoneFrameSet({ seed: 9, perCase: 1, cases: ['empty', 'plain'] })];
    const code = frames.find((f) => f.expected.kind === 'text')!;
    writeFileSync(join(dir, 'stream.raw'), Buffer.concat(frames.map((f) => f.frame.data)));
    const config = {
      gate: { id: 'CAM-1', site: 'site-cam', mode: 'metro-entry' },
      devices: { scanners: [{ driver: 'v4l2', fps: 20, command: [process.execPath, FRAME_SOURCE, '--frames', join(dir, 'stream.raw'), '--frame-bytes', String(640 * 480), '--fps', '{fps}'] }] },
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const run = citygate(['camera', 'test', '--config', 'config.json', '--seconds', '2', '--save', 'look.png', '--json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ result: 'ok', driver: 'v4l2', device: '/dev/video0', size: '640x480', seconds: 2, savedFrame: join(dir, 'look.png') });
    expect(report.frames).toBeGreaterThanOrEqual(10);
    expect(report.fps).toBeGreaterThan(5);
    expect(report.decoded).toBeGreaterThanOrEqual(2);
    expect(report.decodeMs.p50).toBeGreaterThan(0);
    expect(report.codes).toEqual([{ text: textOf(code), frames: expect.any(Number) }]);
    const saved = decodePngToGrey(readFileSync(join(dir, 'look.png')));
    expect(saved.ok && [saved.frame.width, saved.frame.height]).toEqual([640, 480]);
    // The saved frame is one the camera sent, byte for byte.
    expect(saved.ok && frames.some((f) => Buffer.from(f.frame.data).equals(Buffer.from(saved.frame.data)))).toBe(true);
  });
});
