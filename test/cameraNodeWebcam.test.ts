import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import NodeWebcam from 'node-webcam';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeWebcamScanner, nodeWebcamOptionsSchema, webcamOptionsOf } from '../hal/camera/nodeWebcamScanner.js';
import { FRAMES_DIR, MANIFEST } from './support/frames.js';
import { ScannerEvents } from './support/scannerEvents.js';

/*
 * The node-webcam fallback with no camera: node-webcam's real command
 * building, and a stand-in `fswebcam` on PATH that writes a recorded still
 * (or fails, as fswebcam does without a camera) where node-webcam asks.
 */
let dir: string;
let savedPath: string | undefined;
const scanners: NodeWebcamScanner[] = [];
const stillText = MANIFEST.frames.find((f) => f.file === 'fswebcam-still.png')!.text;

/** What the stand-in does on its next run: write the still, write a blank, or fail. */
function fakeCamera(mode: 'still' | 'nocode' | 'fail'): void {
  writeFileSync(join(dir, 'mode'), mode);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'citygate-webcam-test-'));
  writeFileSync(
    join(dir, 'fswebcam'),
    `#!${process.execPath}
const fs = require('node:fs');
const mode = fs.readFileSync(${JSON.stringify(join(dir, 'mode'))}, 'utf8');
fs.appendFileSync(${JSON.stringify(join(dir, 'argv.log'))}, JSON.stringify(process.argv.slice(2)) + '\\n');
if (mode === 'fail') { process.stderr.write('Trying source module v4l2...\\n/dev/video0: No such file or directory\\n'); process.exit(0); }
const file = mode === 'still' ? 'fswebcam-still.png' : 'nocode-gradient.png';
fs.copyFileSync(${JSON.stringify(FRAMES_DIR)} + '/' + file, process.argv[process.argv.length - 1]);
`,
  );
  chmodSync(join(dir, 'fswebcam'), 0o755);
  savedPath = process.env.PATH;
  process.env.PATH = `${dir}${delimiter}${savedPath}`;
});

afterEach(async () => {
  await Promise.all(scanners.splice(0).map((s) => s.stop()));
});

afterAll(() => {
  process.env.PATH = savedPath;
  rmSync(dir, { recursive: true, force: true });
});

/** Waits until the stand-in fswebcam has run `n` more times. */
async function captures(n: number): Promise<void> {
  const count = () => (existsSync(join(dir, 'argv.log')) ? readFileSync(join(dir, 'argv.log'), 'utf8').split('\n').length - 1 : 0);
  const target = count() + n;
  await new ScannerEvents().until(() => count() >= target);
}

async function started(): Promise<ScannerEvents> {
  const scanner = new NodeWebcamScanner(nodeWebcamOptionsSchema.parse({ intervalMs: 10, releaseFrames: 2, releaseMs: 0 }));
  scanners.push(scanner);
  const events = new ScannerEvents();
  await scanner.start(events.listener);
  return events;
}

describe('node-webcam fallback camera driver', () => {
  it('asks fswebcam for a grey PNG of the configured device and size', () => {
    const options = nodeWebcamOptionsSchema.parse({ device: '/dev/video2', width: 800, height: 600, skipFrames: 3 });
    const sh = NodeWebcam.create(webcamOptionsOf(options)).generateSh('/tmp/citygate-webcam-x/still.png').split(/\s+/).join(' ');
    expect(sh).toBe('fswebcam -q -r 800x600 --png 1 -d /dev/video2 --greyscale --no-banner --skip 3 /tmp/citygate-webcam-x/still.png');
  });

  it('refuses a device path that would change the shell command node-webcam runs', () => {
    expect(nodeWebcamOptionsSchema.safeParse({ device: '/dev/video0; reboot' }).success).toBe(false);
    expect(nodeWebcamOptionsSchema.safeParse({ device: '/dev/v4l/by-id/usb-046d_C270-video-index0' }).success).toBe(true);
  });

  it('decodes each still, reports a code held in view once, and again after it left', async () => {
    fakeCamera('still');
    const events = await started();
    await events.until((e) => e.codes().length === 1 && e.health().length === 1);
    expect(events.health()[0]).toEqual({ healthy: true, detail: 'taking 640x480 stills from /dev/video0' });
    await captures(3);
    expect(events.codes()).toEqual([stillText]);
    fakeCamera('nocode');
    await captures(3);
    fakeCamera('still');
    await events.until((e) => e.codes().length === 2);
    expect(events.codes()).toEqual([stillText, stillText]);
  });

  it('a camera fswebcam cannot open is an unhealthy scanner, until it comes back', async () => {
    fakeCamera('fail');
    const events = await started();
    await events.until((e) => e.health().length >= 1);
    expect(events.health()[0]!.healthy).toBe(false);
    expect(events.health()[0]!.detail).toMatch(/fswebcam could not take a still from \/dev\/video0: No webcam found/);
    fakeCamera('still');
    await events.until((e) => e.codes().length === 1);
    expect(events.health().at(-1)!.healthy).toBe(true);
  });
});
