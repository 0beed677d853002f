import { crc32, deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { decodePngToGrey } from '../../hal/camera/pngGrey.js';
import { decodeDs3231Time } from '../../hal/i2c/ds3231.js';
import { applyEdits, edits, mutatedBytes, type Edit } from './mutators.js';
import { acceptedUnless, hex, reasonKey, refused, violated, type FuzzTarget, type Outcome } from './target.js';

/*
 * Bytes from devices, parsed by the HAL: the PNG stills a webcam tool writes
 * (hal/camera/pngGrey.ts) and the DS3231 RTC's time registers
 * (hal/i2c/ds3231.ts). Each returns a value or a reason, never throws.
 */

interface Chunk {
  type: string;
  data: Uint8Array;
}

function pngOf(chunks: readonly Chunk[]): Uint8Array {
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])];
  for (const { type, data } of chunks) {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    parts.push(head, Buffer.from(data), crc);
  }
  return Uint8Array.from(Buffer.concat(parts));
}

function header(width: number, height: number, colourType: number): Uint8Array {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data.set([8, colourType, 0, 0, 0], 8);
  return data;
}

/** Filtered scanlines of a test pattern: each row with its own filter type, as encoders mix them. */
function scanlines(width: number, height: number, channels: number): Uint8Array {
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = y % 5;
    for (let i = 0; i < stride; i++) raw[y * (stride + 1) + 1 + i] = (i * 7 + y * 13) & 0xff;
  }
  return raw;
}

interface PngSeed {
  width: number;
  height: number;
  colourType: number;
  channels: number;
}

const PNG_SEEDS: readonly PngSeed[] = [
  { width: 16, height: 16, colourType: 0, channels: 1 },
  { width: 20, height: 17, colourType: 2, channels: 3 },
  { width: 16, height: 18, colourType: 6, channels: 4 },
  { width: 17, height: 16, colourType: 4, channels: 2 },
];

function seedChunks(seed: PngSeed, raw = scanlines(seed.width, seed.height, seed.channels)): Chunk[] {
  const idat = deflateSync(raw);
  const half = Math.floor(idat.length / 2);
  // Two IDAT chunks: the decoder must join them.
  return [
    { type: 'IHDR', data: header(seed.width, seed.height, seed.colourType) },
    { type: 'tEXt', data: Buffer.from('Software\0fswebcam') },
    { type: 'IDAT', data: idat.subarray(0, half) },
    { type: 'IDAT', data: idat.subarray(half) },
    { type: 'IEND', data: new Uint8Array(0) },
  ];
}

const PNG_FILES = PNG_SEEDS.map((seed) => pngOf(seedChunks(seed)));

/** Edits inside one chunk, with the CRC made right again, so that they reach the header and pixel checks. */
const rechecked: fc.Arbitrary<Uint8Array> = fc
  .record({ seed: fc.nat({ max: PNG_SEEDS.length - 1 }), chunk: fc.nat({ max: 4 }), list: edits, dropChunk: fc.option(fc.nat({ max: 4 }), { freq: 4, nil: undefined }) })
  .map(({ seed, chunk, list, dropChunk }) => {
    const chunks = seedChunks(PNG_SEEDS[seed]!);
    chunks[chunk] = { ...chunks[chunk]!, data: applyEdits(chunks[chunk]!.data, list, []) };
    return pngOf(chunks.filter((_, i) => i !== dropChunk));
  });

/** Edits to the scanlines before compression (filter bytes among them), so that they reach the unfiltering. */
const refiltered: fc.Arbitrary<Uint8Array> = fc.record({ seed: fc.nat({ max: PNG_SEEDS.length - 1 }), list: edits }).map(({ seed, list }) => {
  const s = PNG_SEEDS[seed]!;
  return pngOf(seedChunks(s, applyEdits(scanlines(s.width, s.height, s.channels), list as Edit[], [])));
});

/** A header that claims another size or format than the pixels that follow. */
const lyingHeader: fc.Arbitrary<Uint8Array> = fc
  .record({ seed: fc.nat({ max: PNG_SEEDS.length - 1 }), width: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(4096, 4097, 0xffffffff)), height: fc.integer({ min: 0, max: 64 }), colourType: fc.nat({ max: 7 }) })
  .map(({ seed, width, height, colourType }) => {
    const chunks = seedChunks(PNG_SEEDS[seed]!);
    chunks[0] = { type: 'IHDR', data: header(width, height, colourType) };
    return pngOf(chunks);
  });

export function pngTarget(): FuzzTarget<Uint8Array> {
  return {
    name: 'camera-png',
    weight: 1,
    arbitrary: fc.oneof(
      { weight: 3, arbitrary: rechecked },
      { weight: 2, arbitrary: refiltered },
      { weight: 1, arbitrary: lyingHeader },
      { weight: 2, arbitrary: mutatedBytes(PNG_FILES).map((m) => m.value) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    ),
    run: (file): Outcome => {
      const result = decodePngToGrey(file);
      if (!result.ok) return refused(reasonKey(result.reason.split(':')[0]!));
      const { width, height, data } = result.frame;
      return acceptedUnless(data.length === width * height ? undefined : `frame ${width}x${height} accepted with ${data.length} bytes of pixels`);
    },
    ...hex,
  };
}

const toBcd = (n: number): number => ((Math.floor(n / 10) << 4) | n % 10) & 0xff;

/** Registers of real times: a good one, the 2000-01-01 a flat battery resets to, 12 h mode, the century bit. */
const RTC_SEEDS: readonly Uint8Array[] = [
  Uint8Array.of(toBcd(30), toBcd(15), toBcd(8), 5, toBcd(15), toBcd(1), toBcd(27)),
  Uint8Array.of(0, 0, 0, 1, 1, 1, 0),
  Uint8Array.of(toBcd(59), toBcd(59), 0x40 | 0x20 | toBcd(11), 7, toBcd(31), toBcd(12), toBcd(99)),
  Uint8Array.of(0, 0, toBcd(23), 2, toBcd(29), 0x80 | toBcd(2), toBcd(0)),
];

export function rtcTarget(): FuzzTarget<Uint8Array> {
  return {
    name: 'rtc-registers',
    weight: 1,
    // The driver reads seven registers; other lengths never reach the decoder.
    arbitrary: fc.oneof(
      { weight: 2, arbitrary: mutatedBytes(RTC_SEEDS).map((m) => Uint8Array.from({ length: 7 }, (_, i) => m.value[i] ?? 0)) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 7, maxLength: 7 }) },
    ),
    run: (regs): Outcome => {
      const time = decodeDs3231Time(regs);
      if ('reason' in time) return refused(reasonKey(time.reason.split(' (')[0]!.split(':')[0]!));
      // Each register is two BCD digits; the year is 00-99 plus the century bit: 2000-2199.
      const year = new Date(time.ms).getUTCFullYear();
      if (regs[6]! >> 4 > 9) return violated(`year register ${regs[6]!.toString(16)} (tens digit not BCD) accepted as ${year}`);
      return acceptedUnless(Number.isFinite(time.ms) && year >= 2000 && year < 2200 ? undefined : `RTC time ${time.ms} (${year}) accepted`);
    },
    ...hex,
  };
}
