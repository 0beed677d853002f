import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { GreyFrame } from '../hal/camera/greyFrame.js';
import { decodePngToGrey } from '../hal/camera/pngGrey.js';
import { QrFrameDecoder } from '../hal/camera/qrFrameDecoder.js';
import { runInterleaved, type BenchCase } from './runner.js';
import { round1, summarise } from './stats.js';

/*
 * What one camera frame costs the gate: the decode of a 640x480 grey frame
 * (binarise, find patterns, sample, Reed-Solomon), as the V4L2 driver runs it,
 * over the recorded frames of test/fixtures/frames. `camera.frame.nocode` is
 * what every frame costs while nobody is at the gate; `camera.frame.code` is a
 * frame that holds a code (straight, tilted, blurred, faint, on a phone).
 */

const FRAMES_DIR = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'frames');

interface Recorded {
  frame: GreyFrame;
  text: string | null;
}

function recorded(prefix: string): Recorded[] {
  const manifest: { frames: { file: string; text: string | null }[] } = JSON.parse(readFileSync(join(FRAMES_DIR, 'frames.json'), 'utf8'));
  return manifest.frames
    .filter((f) => f.file.startsWith(prefix))
    .map(({ file, text }) => {
      const result = decodePngToGrey(readFileSync(join(FRAMES_DIR, file)));
      if (!result.ok) throw new Error(`${file}: ${result.reason}`);
      return { frame: result.frame, text };
    });
}

function decodeCase(name: string, frames: Recorded[]): BenchCase {
  const decoder = new QrFrameDecoder({ tryHarder: true });
  let i = 0;
  return {
    name,
    measure() {
      const { frame, text } = frames[i++ % frames.length]!;
      const t0 = performance.now();
      const decoded = decoder.decode(frame);
      const t1 = performance.now();
      if ((decoded ?? null) !== text) throw new Error(`${name}: frame ${i % frames.length} decoded to ${decoded}, expected ${text}`);
      return (t1 - t0) * 1000;
    },
  };
}

export function cameraCases(): BenchCase[] {
  return [decodeCase('camera.frame.nocode', recorded('nocode-')), decodeCase('camera.frame.code', recorded('code-'))];
}

export async function benchCamera(plan = { warmup: 50, n: 1000, chunk: 25 }): Promise<object[]> {
  const samples = await runInterleaved(cameraCases(), plan);
  return [...samples].map(([name, s]) => {
    const { n, p50, p99, mean, min, max } = summarise(s);
    return { name, unit: 'us', n, p50: round1(p50), p99: round1(p99), mean: round1(mean), min: round1(min), max: round1(max) };
  });
}

if (process.argv[1] === import.meta.filename) {
  for (const figure of await benchCamera()) process.stdout.write(`${JSON.stringify(figure)}\n`);
}
