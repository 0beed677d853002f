/*
 * Recall of the camera decoder, old against new, per case: the share of
 * frames each decoder reads to exactly the code the frame shows, and the
 * frames it reads to anything else (wrong). The frames are phone screens
 * rendered from citygate's own codes (test/support/phoneFrames.ts); with
 * --photos DIR also a directory of still images, each with the expected text
 * beside it in NAME.txt (e.g. zxing's black-box qrcode-1..6 sets).
 *
 *   npx tsc -p . && node dist/bench/cameraRecall.js [--per-case N] [--seed S] [--size 640x480] [--photos DIR]
 *
 * "old" is the decoder the gate had before: @zxing/library's QRCodeReader with
 * TRY_HARDER on a HybridBinarizer (a devDependency kept for this comparison
 * only); "zxingCpp" is zxing-cpp alone, one pass with its default options (all
 * formats, plain text), the decoder to beat; "new" is hal/camera/qrFrameDecoder.ts.
 * A frame without a code counts as read when the decoder reads nothing.
 * Output: one JSON line per case, then the totals of the phone frames.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BinaryBitmap, DecodeHintType, HybridBinarizer, QRCodeReader, ResultMetadataType, RGBLuminanceSource } from '@zxing/library';
import { hexOf, type DecodedCode } from '../hal/camera/decodedCode.js';
import type { GreyFrame } from '../hal/camera/greyFrame.js';
import { decodePngToGrey } from '../hal/camera/pngGrey.js';
import { QrFrameDecoder } from '../hal/camera/qrFrameDecoder.js';
import { ZxingReader, zxingOptions, type ZxingSymbol } from '../hal/camera/zxingReader.js';
import { CASES, phoneFrameSet, type Expected } from '../test/support/phoneFrames.js';

const COLUMNS = ['old', 'zxingCpp', 'new'] as const;
type Column = (typeof COLUMNS)[number];
type Tally = { name: string; n: number } & Record<Column | `${Column}Wrong`, number>;

const tally = (name: string): Tally => ({ name, n: 0, old: 0, zxingCpp: 0, new: 0, oldWrong: 0, zxingCppWrong: 0, newWrong: 0 });

const reader = new QRCodeReader();
const hints = new Map<DecodeHintType, unknown>([[DecodeHintType.TRY_HARDER, true]]);

/** The old decoder's reading: text, or `hex:` and the payload of a byte-mode symbol that is not text. */
function oldRead(frame: GreyFrame, binary: boolean): string | null {
  const luminance = new Uint8ClampedArray(frame.data.buffer, frame.data.byteOffset, frame.width * frame.height);
  try {
    const result = reader.decode(new BinaryBitmap(new HybridBinarizer(new RGBLuminanceSource(luminance, frame.width, frame.height))), hints);
    if (!binary) return result.getText();
    const segments = result.getResultMetadata()?.get(ResultMetadataType.BYTE_SEGMENTS) as Uint8Array[] | undefined;
    return segments ? `hex:${segments.map((s) => hexOf(s)).join('')}` : result.getText();
  } catch {
    return null;
  }
}

const newRead = (code: DecodedCode | undefined): string | null => (code === undefined ? null : code.text ?? `hex:${hexOf(code.bytes)}`);
const cppRead = (symbols: ZxingSymbol[]): string | null => {
  const symbol = symbols.find((s) => s.valid);
  return symbol === undefined ? null : symbol.contentType === 'Binary' ? `hex:${hexOf(symbol.bytes)}` : symbol.text;
};
const holds = (expected: Expected): string | null =>
  expected.kind === 'text' ? expected.text : expected.kind === 'binary' ? `hex:${hexOf(expected.bytes)}` : null;

function count(into: Tally, expected: string | null, reads: Record<Column, string | null>): void {
  into.n++;
  for (const column of COLUMNS) {
    if (reads[column] === expected) into[column]++;
    else if (reads[column] !== null) into[`${column}Wrong`]++;
  }
}

const { values } = parseArgs({
  options: {
    'per-case': { type: 'string' },
    seed: { type: 'string', default: '15' },
    size: { type: 'string', default: '640x480' },
    photos: { type: 'string' },
  },
});
const [width, height] = values.size.split('x').map(Number) as [number, number];
const decoder = await QrFrameDecoder.create({ tryHarder: true });
const cpp = await ZxingReader.create();
const cppDefaults = zxingOptions({ textMode: 'Plain' });
const tallies = new Map<string, Tally>(CASES.map((c) => [c, tally(c)]));
const perCase = values['per-case'] === undefined ? undefined : Number(values['per-case']);
for (const frame of phoneFrameSet({ seed: Number(values.seed), width, height, ...(perCase ? { perCase } : {}) })) {
  count(tallies.get(frame.case)!, holds(frame.expected), {
    old: oldRead(frame.frame, frame.expected.kind === 'binary'),
    zxingCpp: cppRead(cpp.readFrame(frame.frame, cppDefaults)),
    new: newRead(decoder.decode(frame.frame)),
  });
}
if (values.photos) {
  const photos = tally('photos');
  for (const file of readdirSync(values.photos).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort()) {
    const bytes = readFileSync(join(values.photos, file));
    const expected = readFileSync(join(values.photos, file.replace(/\.[^.]+$/, '.txt')), 'utf8');
    const grey = decodePngToGrey(bytes);
    count(photos, expected, {
      old: grey.ok ? oldRead(grey.frame, false) : null,
      zxingCpp: cppRead(cpp.readImageFile(bytes, cppDefaults)),
      new: newRead(decoder.decodeImageFile(bytes)),
    });
  }
  tallies.set('photos', photos);
}
const total = tally('phones');
for (const one of tallies.values()) {
  if (one.n === 0) continue;
  process.stdout.write(`${JSON.stringify({ ...one, name: `camera.recall.${one.name}`, size: values.size })}\n`);
  if (one.name === 'photos') continue;
  for (const key of ['n', ...COLUMNS, ...COLUMNS.map((c) => `${c}Wrong` as const)] as const) total[key] += one[key];
}
process.stdout.write(`${JSON.stringify({ ...total, name: 'camera.recall.phones', size: values.size })}\n`);
