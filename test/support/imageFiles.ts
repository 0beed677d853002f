/*
 * Still image files of grey frames, made here rather than by the code under
 * test: an 8-bit grey PNG (filter None, deflate) and a baseline JPEG (one grey
 * component, the JPEG standard's luminance quantisation table scaled to a
 * quality, flat 8-bit Huffman codes: legal JPEG, not the smallest).
 */
import { crc32, deflateSync } from 'node:zlib';
import type { GreyFrame } from '../../hal/camera/greyFrame.js';

export function greyPng(frame: GreyFrame): Buffer {
  const { width, height, data } = frame;
  const rows = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) rows.set(data.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8);
  const chunk = (type: string, body: Buffer): Buffer => {
    const typed = Buffer.concat([Buffer.from(type, 'ascii'), body]);
    const out = Buffer.alloc(12 + body.length);
    out.writeUInt32BE(body.length, 0);
    typed.copy(out, 4);
    out.writeUInt32BE(crc32(typed), 8 + body.length);
    return out;
  };
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** The JPEG standard's example luminance table (ITU T.81 Annex K), in natural order. */
const LUMINANCE = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/** Zigzag position k -> natural index. */
const ZIGZAG = (() => {
  const order: number[] = [];
  for (let s = 0; s < 15; s++) {
    const cells: number[] = [];
    for (let y = 0; y < 8; y++) if (s - y >= 0 && s - y < 8) cells.push(y * 8 + (s - y));
    order.push(...(s % 2 === 0 ? cells.reverse() : cells));
  }
  return order;
})();

class BitWriter {
  private readonly bytes: number[] = [];
  private value = 0;
  private count = 0;

  write(bits: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.value = (this.value << 1) | ((bits >> i) & 1);
      if (++this.count === 8) this.flushByte();
    }
  }

  finish(): Buffer {
    while (this.count !== 0) this.write(1, 1);
    return Buffer.from(this.bytes);
  }

  private flushByte(): void {
    this.bytes.push(this.value);
    // Byte stuffing: a 0xFF in the entropy-coded data is followed by 0x00.
    if (this.value === 0xff) this.bytes.push(0);
    this.value = 0;
    this.count = 0;
  }
}

/** Magnitude category and the bits of a coefficient (T.81 F.1.2.1). */
function category(value: number): { size: number; bits: number } {
  const magnitude = Math.abs(value);
  const size = magnitude === 0 ? 0 : Math.floor(Math.log2(magnitude)) + 1;
  return { size, bits: value >= 0 ? value : value + (1 << size) - 1 };
}

export function greyJpeg(frame: GreyFrame, quality = 90): Buffer {
  const { width, height, data } = frame;
  const scale = quality < 50 ? 5000 / quality : 200 - 2 * quality;
  const quant = LUMINANCE.map((q) => Math.min(255, Math.max(1, Math.floor((q * scale + 50) / 100))));
  // Flat Huffman tables: DC categories 0..11 as 4-bit codes, every AC symbol as an 8-bit code.
  const dcSymbols = Array.from({ length: 12 }, (_, i) => i);
  const acSymbols = [0x00, 0xf0];
  for (let run = 0; run < 16; run++) for (let size = 1; size <= 10; size++) acSymbols.push((run << 4) | size);
  const dcCode = new Map(dcSymbols.map((s, i) => [s, i]));
  const acCode = new Map(acSymbols.map((s, i) => [s, i]));

  const cos = Array.from({ length: 64 }, (_, i) => Math.cos(((2 * (i >> 3) + 1) * (i & 7) * Math.PI) / 16));
  const bits = new BitWriter();
  let previousDc = 0;
  const block = new Float64Array(64);
  for (let by = 0; by < height; by += 8) {
    for (let bx = 0; bx < width; bx += 8) {
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) block[y * 8 + x] = data[Math.min(height - 1, by + y) * width + Math.min(width - 1, bx + x)]! - 128;
      }
      const coefficients: number[] = new Array(64);
      for (let v = 0; v < 8; v++) {
        for (let u = 0; u < 8; u++) {
          let sum = 0;
          for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) sum += block[y * 8 + x]! * cos[x * 8 + u]! * cos[y * 8 + v]!;
          const c = (u === 0 ? Math.SQRT1_2 : 1) * (v === 0 ? Math.SQRT1_2 : 1) * sum / 4;
          coefficients[v * 8 + u] = Math.round(c / quant[v * 8 + u]!);
        }
      }
      const dc = category(coefficients[0]! - previousDc);
      previousDc = coefficients[0]!;
      bits.write(dcCode.get(dc.size)!, 4);
      if (dc.size) bits.write(dc.bits, dc.size);
      let run = 0;
      for (let k = 1; k < 64; k++) {
        const value = coefficients[ZIGZAG[k]!]!;
        if (value === 0) {
          run++;
          continue;
        }
        for (; run >= 16; run -= 16) bits.write(acCode.get(0xf0)!, 8);
        const ac = category(value);
        bits.write(acCode.get((run << 4) | ac.size)!, 8);
        bits.write(ac.bits, ac.size);
        run = 0;
      }
      if (run > 0) bits.write(acCode.get(0x00)!, 8);
    }
  }

  const segment = (marker: number, body: number[]): Buffer => Buffer.from([0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body]);
  const counts = (n: number, length: number) => Array.from({ length: 16 }, (_, i) => (i === length - 1 ? n : 0));
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    segment(0xdb, [0x00, ...ZIGZAG.map((i) => quant[i]!)]),
    segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]),
    segment(0xc4, [0x00, ...counts(dcSymbols.length, 4), ...dcSymbols]),
    segment(0xc4, [0x10, ...counts(acSymbols.length, 8), ...acSymbols]),
    segment(0xda, [1, 1, 0x00, 0, 63, 0]),
    bits.finish(),
    Buffer.from([0xff, 0xd9]),
  ]);
}
