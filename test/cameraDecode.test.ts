import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { CodeDedup } from '../hal/camera/codeDedup.js';
import { InThreadDecoding } from '../hal/camera/frameDecoding.js';
import { FrameScanner } from '../hal/camera/frameScanner.js';
import { inspectImageFile } from '../hal/camera/imageFile.js';
import { decodePngToGrey } from '../hal/camera/pngGrey.js';
import { QrFrameDecoder } from '../hal/camera/qrFrameDecoder.js';
import { FRAMES_DIR, MANIFEST, STREAM_FRAMES, loadFrame } from './support/frames.js';
import { greyJpeg } from './support/imageFiles.js';

let decoder: QrFrameDecoder;
/** What zxing-wasm asked the network for while it loaded (it would fetch its .wasm from a CDN by default). */
const fetched: string[] = [];
beforeAll(async () => {
  const realFetch = globalThis.fetch;
  globalThis.fetch = ((input: string | URL | Request) => {
    fetched.push(String(input));
    return Promise.reject(new Error('no network at a gate'));
  }) as typeof fetch;
  try {
    decoder = await QrFrameDecoder.create({ tryHarder: true });
  } finally {
    globalThis.fetch = realFetch;
  }
});

it('zxing-cpp loads from this installation, never from the network', () => {
  expect(fetched).toEqual([]);
  expect(decoder).toBeInstanceOf(QrFrameDecoder);
});

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
    const code = decoder.decode(frame);
    expect(code?.text ?? null).toBe(text);
    if (code) expect(Buffer.from(code.bytes).toString('latin1')).toBe(text);
  });

  it('the fswebcam-style RGB still (every PNG filter type) reads to grey and decodes', () => {
    const still = MANIFEST.frames.find((f) => f.file === 'fswebcam-still.png')!;
    const grey = loadFrame('fswebcam-still.png');
    expect(decoder.decode(grey)?.text).toBe(still.text);
    // The grey frame it was made from (makeFrames: tint 1.0 / 0.92 / 0.8), through BT.601 luma: every pixel exact.
    const original = loadFrame('code-small.png');
    const luma = (g: number) => (77 * Math.min(255, Math.round(g)) + 150 * Math.min(255, Math.round(g * 0.92)) + 29 * Math.min(255, Math.round(g * 0.8))) >> 8;
    const mismatches = original.data.filter((g, i) => luma(g) !== grey.data[i]).length;
    expect(mismatches).toBe(0);
  });

  it('without tryHarder the decoder still reads a plain frame', async () => {
    const quick = await QrFrameDecoder.create({ tryHarder: false });
    expect(quick.decode(loadFrame('code-straight.png'))?.text).toBe(STREAM_FRAMES.find((f) => f.file === 'code-straight.png')!.text);
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

describe('image file headers (camera decode) are checked before any pixel is decoded', () => {
  const png = readFileSync(join(FRAMES_DIR, 'code-small.png'));
  const jpeg = greyJpeg({ width: 40, height: 24, data: new Uint8Array(40 * 24).fill(90) });
  const claiming = (width: number, height: number): Buffer => {
    const copy = Buffer.from(png);
    copy.writeUInt32BE(width, 16);
    copy.writeUInt32BE(height, 20);
    return copy;
  };
  it('reads the kind and size of a PNG and of a JPEG', () => {
    expect(inspectImageFile(png)).toEqual({ ok: true, kind: 'png', width: 640, height: 480 });
    expect(inspectImageFile(jpeg)).toEqual({ ok: true, kind: 'jpeg', width: 40, height: 24 });
  });
  it.each([
    ['text', Buffer.from('CG1:NOT-AN-IMAGE'), /not a PNG or JPEG file/],
    ['a PNG claiming 20000 x 20000 pixels', claiming(20_000, 20_000), /20000x20000 image is larger than a camera still/],
    ['a PNG claiming 8000 x 8000 pixels (64 MP)', claiming(8000, 8000), /8000x8000 image is larger than a camera still/],
    ['a JPEG cut before its frame header', jpeg.subarray(0, 30), /without a frame header/],
    ['a JPEG with a broken segment', Buffer.from([0xff, 0xd8, 0xff, 0xdb, 0x00, 0x04, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78]), /damaged JPEG file \(no marker at byte 8\)/],
  ])('refuses %s', (_, file, reason) => {
    const result = inspectImageFile(file);
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

  it('recorded frames in a row: one event per presentation, through the frame scanner', async () => {
    const texts: (string | undefined)[] = [];
    let now = 0;
    const options = { tryHarder: true, decodeIntervalMs: 0, releaseFrames: 2, releaseMs: 100 };
    const scanner = new FrameScanner(options, { code: (code) => texts.push(code.text) }, () => now, new InThreadDecoding(options));
    const sequence = [
      'nocode-dark.png', 'code-straight.png', 'code-angle-30.png', 'toodamaged-blur.png', 'code-blur.png', // one senior code, moved and refocused
      'nocode-text.png', 'nocode-noise.png', 'nocode-dark.png', // gone for 3 frames, 300 ms
      'code-phone.png', 'code-phone.png', // back on a phone: a new presentation
      'code-phone-offline.png', 'code-offline.png', // another passenger's code
    ];
    for (const file of sequence) {
      await scanner.scan(loadFrame(file));
      now += 100;
    }
    await scanner.stop();
    const text = (file: string) => STREAM_FRAMES.find((f) => f.file === file)!.text;
    expect(texts).toEqual([text('code-straight.png'), text('code-phone.png'), text('code-offline.png')]);
    expect(text('code-straight.png')).toBe(text('code-phone.png'));
    expect(scanner.counts).toEqual({ received: sequence.length, decoded: sequence.length, dropped: 0 });
  });

  it('a failing decoder is reported once, and its recovery once', async () => {
    const options = { tryHarder: true, decodeIntervalMs: 0, releaseFrames: 2, releaseMs: 0 };
    const real = new InThreadDecoding(options);
    let failures = 2;
    // The decoder as the worker thread would fail it: a thread that died, twice, then a working one.
    const flaky = { ready: () => real.ready(), close: () => real.close(), decode: (frame: Parameters<typeof real.decode>[0]) => (failures-- > 0 ? Promise.reject(new Error('the camera decoder thread exited (code 1)')) : real.decode(frame)) };
    const trouble: (string | undefined)[] = [];
    const texts: (string | undefined)[] = [];
    const scanner = new FrameScanner(options, { code: (code) => texts.push(code.text), decoderTrouble: (detail) => trouble.push(detail) }, () => 0, flaky);
    for (let i = 0; i < 3; i++) await scanner.scan(loadFrame('code-straight.png'));
    await scanner.stop();
    expect(trouble).toEqual(['the camera decoder thread exited (code 1)', undefined]);
    expect(texts).toEqual([STREAM_FRAMES.find((f) => f.file === 'code-straight.png')!.text]);
  });
});
