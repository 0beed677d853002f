import { crc32, inflateSync } from 'node:zlib';
import { frameSizeProblem, type GreyFrame } from './greyFrame.js';

/*
 * Reads the PNG stills fswebcam writes (for the node-webcam driver) into a
 * grey frame, with node:zlib only: 8-bit, non-interlaced, grey / grey+alpha /
 * RGB / RGBA, which is what fswebcam (libgd) produces. Anything else is
 * rejected with a reason rather than guessed at.
 */

export type PngResult = { ok: true; frame: GreyFrame } | { ok: false; reason: string };

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Samples per pixel by PNG colour type. */
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };

interface Header {
  width: number;
  height: number;
  channels: number;
}

export function decodePngToGrey(file: Uint8Array): PngResult {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (bytes.length < SIGNATURE.length || !bytes.subarray(0, SIGNATURE.length).equals(SIGNATURE)) return fail('not a PNG file (bad signature)');
  let header: Header | undefined;
  const idat: Buffer[] = [];
  let offset = SIGNATURE.length;
  for (;;) {
    if (offset + 12 > bytes.length) return fail('truncated PNG: no IEND chunk');
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > bytes.length) return fail(`truncated PNG: chunk ${type} runs past the end of the file`);
    if (crc32(bytes.subarray(offset + 4, offset + 8 + length)) !== bytes.readUInt32BE(offset + 8 + length)) return fail(`corrupt PNG: CRC mismatch in chunk ${type}`);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      const parsed = parseHeader(data);
      if (typeof parsed === 'string') return fail(parsed);
      header = parsed;
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    offset = end;
  }
  if (!header) return fail('PNG has no IHDR chunk');
  if (idat.length === 0) return fail('PNG has no image data (IDAT)');
  const stride = header.width * header.channels;
  const expected = (stride + 1) * header.height;
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expected });
  } catch (error) {
    return fail(`PNG image data does not inflate: ${(error as Error).message}`);
  }
  if (raw.length !== expected) return fail(`PNG image data is ${raw.length} bytes, expected ${expected}`);
  const pixels = unfilter(raw, stride, header.height, header.channels);
  if (typeof pixels === 'string') return fail(pixels);
  return { ok: true, frame: { width: header.width, height: header.height, data: toGrey(pixels, header.channels) } };
}

function parseHeader(data: Buffer): Header | string {
  if (data.length !== 13) return `IHDR is ${data.length} bytes, expected 13`;
  const width = data.readUInt32BE(0);
  const height = data.readUInt32BE(4);
  const sizeProblem = frameSizeProblem(width, height);
  if (sizeProblem) return sizeProblem;
  const [bitDepth, colourType, compression, filter, interlace] = data.subarray(8);
  const channels = CHANNELS[colourType!];
  if (bitDepth !== 8 || channels === undefined) return `unsupported PNG format: bit depth ${bitDepth}, colour type ${colourType} (8-bit grey or RGB expected)`;
  if (compression !== 0 || filter !== 0) return `unsupported PNG compression ${compression} / filter method ${filter}`;
  if (interlace !== 0) return 'interlaced PNG is not supported: ask the camera tool for a non-interlaced file';
  return { width, height, channels };
}

/** Undoes the per-row PNG filters in place (RFC 2083 §6). */
function unfilter(raw: Buffer, stride: number, height: number, bpp: number): Buffer | string {
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const at = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? out[at + i - bpp]! : 0;
      const b = y > 0 ? out[at - stride + i]! : 0;
      const c = i >= bpp && y > 0 ? out[at - stride + i - bpp]! : 0;
      let predicted: number;
      switch (filter) {
        case 0: predicted = 0; break;
        case 1: predicted = a; break;
        case 2: predicted = b; break;
        case 3: predicted = (a + b) >> 1; break;
        case 4: predicted = paeth(a, b, c); break;
        default: return `corrupt PNG: unknown filter type ${filter} on row ${y}`;
      }
      out[at + i] = (row[i]! + predicted) & 0xff;
    }
  }
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** BT.601 luma in integer arithmetic; alpha is ignored (a camera still is opaque). */
function toGrey(pixels: Buffer, channels: number): Uint8Array {
  if (channels === 1) return new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length);
  const grey = new Uint8Array(pixels.length / channels);
  for (let i = 0, p = 0; i < grey.length; i++, p += channels) {
    grey[i] = channels < 3 ? pixels[p]! : (77 * pixels[p]! + 150 * pixels[p + 1]! + 29 * pixels[p + 2]!) >> 8;
  }
  return grey;
}

function fail(reason: string): PngResult {
  return { ok: false, reason };
}
