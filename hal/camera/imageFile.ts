/*
 * What a still image file is, read from its header before any pixel is
 * decoded: PNG or JPEG, and its size. A file that is neither, or whose header
 * claims more pixels than a camera still could have (a decompression bomb),
 * is refused with a reason here rather than handed to a decoder.
 */

export type ImageFileResult = { ok: true; kind: 'png' | 'jpeg'; width: number; height: number } | { ok: false; reason: string };

/** The most pixels a still may have: a 48 MP phone photo fits, a forged header claiming more does not. */
export const MAX_IMAGE_PIXELS = 50_000_000;
const MAX_IMAGE_SIDE = 16_384;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function inspectImageFile(file: Uint8Array): ImageFileResult {
  if (PNG_SIGNATURE.every((byte, i) => file[i] === byte)) {
    if (file.length < 24 || String.fromCharCode(...file.subarray(12, 16)) !== 'IHDR') return fail('a PNG file without its IHDR header');
    const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
    return sized('png', view.getUint32(16), view.getUint32(20));
  }
  if (file[0] === 0xff && file[1] === 0xd8 && file[2] === 0xff) return jpegSize(file);
  return fail('not a PNG or JPEG file');
}

/** Walks the JPEG markers to the frame header (SOF0..SOF15 but DHT, JPG, DAC), which holds the size. */
function jpegSize(file: Uint8Array): ImageFileResult {
  let at = 2;
  while (at + 4 <= file.length) {
    if (file[at] !== 0xff) return fail(`a damaged JPEG file (no marker at byte ${at})`);
    const marker = file[at + 1]!;
    // Fill bytes, and markers that stand alone without a length.
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break;
    const length = (file[at + 2]! << 8) | file[at + 3]!;
    if (length < 2) return fail(`a damaged JPEG file (segment length ${length} at byte ${at})`);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (at + 9 > file.length) break;
      return sized('jpeg', (file[at + 7]! << 8) | file[at + 8]!, (file[at + 5]! << 8) | file[at + 6]!);
    }
    at += 2 + length;
  }
  return fail('a JPEG file without a frame header (truncated or damaged)');
}

function sized(kind: 'png' | 'jpeg', width: number, height: number): ImageFileResult {
  if (width < 1 || height < 1) return fail(`a ${kind.toUpperCase()} file of ${width}x${height} pixels`);
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    return fail(`a ${width}x${height} image is larger than a camera still (at most ${MAX_IMAGE_SIDE} px a side and ${MAX_IMAGE_PIXELS / 1e6} MP)`);
  }
  return { ok: true, kind, width, height };
}

function fail(reason: string): ImageFileResult {
  return { ok: false, reason };
}
