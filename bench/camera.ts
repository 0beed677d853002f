import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hexOf, type DecodedCode } from '../hal/camera/decodedCode.js';
import { DecoderThread } from '../hal/camera/decoderThread.js';
import type { GreyFrame } from '../hal/camera/greyFrame.js';
import { decodePngToGrey } from '../hal/camera/pngGrey.js';
import { QrFrameDecoder } from '../hal/camera/qrFrameDecoder.js';
import { phoneFrameSet, type CaseName, type Expected } from '../test/support/phoneFrames.js';
import { runInterleaved, type BenchCase } from './runner.js';
import { round1, summarise } from './stats.js';

/*
 * What one camera frame costs the gate: the decode of a grey frame (zxing-cpp:
 * binarise, find patterns, sample, Reed-Solomon; the rescue passes when a code
 * is seen but not read), as the camera drivers run it, at 640x480 and at
 * 1280x720. `camera.frame.nocode` is what every frame costs while nobody is at
 * the gate: the recorded frames of test/fixtures/frames without a code, and
 * phones showing no code (test/support/phoneFrames.ts). `camera.frame.code` is
 * a frame that holds a code: the recorded ones and phone screens (light and
 * dark mode, tilted, moiré, glare, small, binary). Each decode is checked
 * against what the frame holds. `camera.frame.thread` is the same code frames
 * through the worker thread the drivers use: copy, hand over, decode, answer.
 * The in-thread figures also give cpuP50/cpuP99, the process's CPU time per
 * decode (process.cpuUsage), which a busy shared machine does not inflate the
 * way it does wall time.
 */

const FRAMES_DIR = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'frames');
/** Phone cases every frame of which the decoder reads (see bench/cameraRecall.ts), so that a code frame is a read. */
const READ_CASES: CaseName[] = ['plain', 'dark-mode', 'tilt-20', 'tilt-35', 'moire', 'glare', 'small-issuer', 'binary'];

interface Sample {
  frame: GreyFrame;
  /** The code's text, `hex:` and its bytes for a binary payload, or null. */
  holds: string | null;
}

const holdsOf = (expected: Expected): string | null =>
  expected.kind === 'text' ? expected.text : expected.kind === 'binary' ? `hex:${hexOf(expected.bytes)}` : null;
const readOf = (code: DecodedCode | undefined): string | null => (code === undefined ? null : code.text ?? `hex:${hexOf(code.bytes)}`);

function recorded(prefix: string): Sample[] {
  const manifest: { frames: { file: string; text: string | null }[] } = JSON.parse(readFileSync(join(FRAMES_DIR, 'frames.json'), 'utf8'));
  return manifest.frames
    .filter((f) => f.file.startsWith(prefix))
    .map(({ file, text }) => {
      const result = decodePngToGrey(readFileSync(join(FRAMES_DIR, file)));
      if (!result.ok) throw new Error(`${file}: ${result.reason}`);
      return { frame: result.frame, holds: text };
    });
}

function phones(width: number, height: number, cases: CaseName[], perCase: number): Sample[] {
  return [...phoneFrameSet({ seed: 7, width, height, cases, perCase })].map((p) => ({ frame: p.frame, holds: holdsOf(p.expected) }));
}

function check(name: string, sample: Sample, code: DecodedCode | undefined): void {
  const read = readOf(code);
  if (read !== sample.holds) throw new Error(`${name}: a frame decoded to ${read}, expected ${sample.holds}`);
}

function decodeCase(name: string, decoder: QrFrameDecoder, samples: Sample[], cpu: Map<string, number[]>): BenchCase {
  let i = 0;
  const cpuSamples: number[] = [];
  cpu.set(name, cpuSamples);
  return {
    name,
    measure() {
      const sample = samples[i++ % samples.length]!;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const code = decoder.decode(sample.frame);
      const t1 = performance.now();
      const c1 = process.cpuUsage(c0);
      cpuSamples.push(c1.user + c1.system);
      check(name, sample, code);
      return (t1 - t0) * 1000;
    },
  };
}

function threadCase(name: string, thread: DecoderThread, samples: Sample[]): BenchCase {
  let i = 0;
  return {
    name,
    async measure() {
      const sample = samples[i++ % samples.length]!;
      const t0 = performance.now();
      const { code } = await thread.decode(sample.frame);
      const t1 = performance.now();
      check(name, sample, code);
      return (t1 - t0) * 1000;
    },
  };
}

export async function benchCamera(plan = { warmup: 50, n: 1000, chunk: 25 }): Promise<object[]> {
  const decoder = await QrFrameDecoder.create({ tryHarder: true });
  const thread = new DecoderThread({ tryHarder: true });
  try {
    await thread.ready();
    const code640 = [...recorded('code-'), ...phones(640, 480, READ_CASES, 2)];
    const cpu = new Map<string, number[]>();
    const cases = [
      decodeCase('camera.frame.nocode', decoder, [...recorded('nocode-'), ...phones(640, 480, ['empty'], 6)], cpu),
      decodeCase('camera.frame.code', decoder, code640, cpu),
      threadCase('camera.frame.thread', thread, code640),
      decodeCase('camera.frame.nocode.1280x720', decoder, phones(1280, 720, ['empty'], 8), cpu),
      decodeCase('camera.frame.code.1280x720', decoder, phones(1280, 720, [...READ_CASES, 'small-holder'], 2), cpu),
    ];
    const samples = await runInterleaved(cases, plan);
    return [...samples].map(([name, s]) => {
      const { n, p50, p99, mean, min, max } = summarise(s);
      // Warm-up iterations are in the CPU samples too: the last n are the measured ones.
      const cpuTimes = cpu.get(name)?.slice(-n);
      const cpuFigures = cpuTimes ? { cpuP50: round1(summarise(cpuTimes).p50), cpuP99: round1(summarise(cpuTimes).p99) } : {};
      return { name, unit: 'us', n, p50: round1(p50), p99: round1(p99), mean: round1(mean), min: round1(min), max: round1(max), ...cpuFigures };
    });
  } finally {
    await thread.close();
  }
}

if (process.argv[1] === import.meta.filename) {
  for (const figure of await benchCamera()) process.stdout.write(`${JSON.stringify(figure)}\n`);
}
