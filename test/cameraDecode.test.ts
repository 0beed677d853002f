import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CodeDedup } from '../hal/camera/codeDedup.js';
import { FrameScanner } from '../hal/camera/frameScanner.js';
import { decodePngToGrey } from '../hal/camera/pngGrey.js';
import { QrFrameDecoder } from '../hal/camera/qrFrameDecoder.js';
import { FRAMES_DIR, MANIFEST, STREAM_FRAMES, loadFrame } from './support/frames.js';

const decoder = new QrFrameDecoder({ tryHarder: true });

describe('recorded camera frames', () => {
  it('include codes at every distortion, too-damaged codes and frames without a code', () => {
    expect(STREAM_FRAMES.filter((f) => f.text !== null).length).toBeGreaterThanOrEqual(8);
    expect(STREAM_FRAMES.filter((f) => f.file.startsWith('toodamaged-')).length).toBeGreaterThanOrEqual(1);
    expect(STREAM_FRAMES.filter((f) => f.file.startsWith('nocode-')).length).toBeGreaterThanOrEqual(3);
    for (const frame of MANIFEST.frames) {
      if (frame.text !== null) expect(frame.text).toMatch(/^CG1:[0-9A-Z $%*+\-./:]+$/);
    }
  });

  it.each(STREAM_FRAMES)('$file ($about) decodes to exactly its code, or to nothing', ({ file, text }) => {
    const frame = loadFrame(file);
    expect([frame.width, frame.height, frame.data.length]).toEqual([640, 480, 640 * 480]);
    expect(decoder.decode(frame) ?? null).toBe(text);
  });

  it('the fswebcam-style RGB still (every PNG filter type) reads to grey and decodes', () => {
    const still = MANIFEST.frames.find((f) => f.file === 'fswebcam-still.png')!;
    const grey = loadFrame('fswebcam-still.png');
    expect(decoder.decode(grey)).toBe(still.text);
    // The grey frame it was made from (makeFrames: tint 1.0 / 0.92 / 0.8), through BT.601 luma: every pixel exact.
    const original = loadFrame('code-small.png');
    const luma = (g: number) => (77 * Math.min(255, Math.round(g)) + 150 * Math.min(255, Math.round(g * 0.92)) + 29 * Math.min(255, Math.round(g * 0.8))) >> 8;
    const mismatches = original.data.filter((g, i) => luma(g) !== grey.data[i]).length;
    expect(mismatches).toBe(0);
  });

  it('without TRY_HARDER the decoder still reads a plain frame', () => {
    expect(new QrFrameDecoder({ tryHarder: false }).decode(loadFrame('code-straight.png'))).toBe(STREAM_FRAMES.find((f) => f.file === 'code-straight.png')!.text);
  });
});

describe('PNG reader rejects what it cannot read, with a reason', () => {
  const good = readFileSync(join(FRAMES_DIR, 'code-small.png'));
  /** The file with IHDR's byte `at` (0 = first data byte) set to `value` and its CRC fixed. */
  function withHeaderByte(at: number, value: number): Buffer {
    const copy = Buffer.from(good);
    copy[16 + at] = value;
    copy.writeUInt32BE(crc32(copy.subarray(12, 29)), 29);
    return copy;
  }
  it.each([
    ['not a PNG', Buffer.from('P5\n640 480\n255\n'), /signature/],
    ['truncated', good.subarray(0, good.length - 200), /truncated/],
    ['a flipped bit', Buffer.from(good).fill(0x55, 100, 101), /CRC mismatch in chunk IDAT/],
    ['16-bit samples', withHeaderByte(8, 16), /bit depth 16/],
    ['palette colour', withHeaderByte(9, 3), /colour type 3/],
    ['interlaced', withHeaderByte(12, 1), /interlaced/],
    ['an absurd width', withHeaderByte(0, 0x7f), /width .* is outside/],
  ])('%s', (_, file, reason) => {
    const result = decodePngToGrey(file);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('dedup of a code held in view', () => {
  it('reports a code once while it stays, and again after it was gone long enough in frames and time', () => {
    const dedup = new CodeDedup({ releaseFrames: 3, releaseMs: 500 });
    const seen = (text: string | undefined, ms: number) => dedup.see(text, ms);
    expect(seen('A', 0)).toBe('A');
    expect(seen('A', 100)).toBeUndefined();
    expect(seen(undefined, 200)).toBeUndefined(); // one blurred frame
    expect(seen('A', 300)).toBeUndefined();
    expect(seen(undefined, 400)).toBeUndefined();
    expect(seen(undefined, 500)).toBeUndefined();
    expect(seen(undefined, 600)).toBeUndefined(); // 3 frames but only 200 ms
    expect(seen('A', 700)).toBeUndefined();
    for (const ms of [800, 1500]) expect(seen(undefined, ms)).toBeUndefined(); // 700 ms but 2 frames
    expect(seen('A', 1600)).toBeUndefined();
    for (const ms of [1700, 1800, 2300]) expect(seen(undefined, ms)).toBeUndefined();
    expect(seen('A', 2400)).toBe('A');
  });

  it('reports another code at once, and the first again when it comes back', () => {
    const dedup = new CodeDedup({ releaseFrames: 3, releaseMs: 500 });
    expect(['A', 'A', 'B', 'B', 'A'].map((t, i) => dedup.see(t, i * 10))).toEqual(['A', undefined, 'B', undefined, 'A']);
  });

  it('recorded frames in a row: one event per presentation, through the frame scanner', () => {
    const texts: string[] = [];
    let now = 0;
    const scanner = new FrameScanner({ tryHarder: true, decodeIntervalMs: 0, releaseFrames: 2, releaseMs: 100 }, (text) => texts.push(text), () => now);
    const sequence = [
      'nocode-dark.png', 'code-straight.png', 'code-angle-30.png', 'toodamaged-blur.png', 'code-blur.png', // one senior code, moved and refocused
      'nocode-text.png', 'nocode-noise.png', 'nocode-dark.png', // gone for 3 frames, 300 ms
      'code-phone.png', 'code-phone.png', // back on a phone: a new presentation
      'code-phone-offline.png', 'code-offline.png', // another passenger's code
    ];
    for (const file of sequence) {
      scanner.scan(loadFrame(file));
      now += 100;
    }
    const text = (file: string) => STREAM_FRAMES.find((f) => f.file === file)!.text;
    expect(texts).toEqual([text('code-straight.png'), text('code-phone.png'), text('code-offline.png')]);
    expect(text('code-straight.png')).toBe(text('code-phone.png'));
    expect(scanner.counts).toEqual({ received: sequence.length, decoded: sequence.length, dropped: 0 });
  });
});
