/*
 * Writes the phone-screen frame set of phoneFrames.ts as files, for a look or
 * for `citygate camera decode`: DIR/<case>-<n>.png (8-bit grey) and
 * DIR/frames.json with what each frame holds ({file, case, about, text} or
 * {..., hex} for a binary payload, text null for no code).
 *
 *   npx tsc -p . && node test/support/makePhoneFrames.mjs DIR [--seed 15] [--per-case N] [--size 640x480]
 *
 * The build compiles phoneFrames.ts (bench/ imports it); the same seed gives
 * the same files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { crc32, deflateSync } from 'node:zlib';
import { phoneFrameSet } from '../../dist/test/support/phoneFrames.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seed: { type: 'string', default: '15' }, 'per-case': { type: 'string' }, size: { type: 'string', default: '640x480' } },
});
if (positionals.length !== 1) {
  process.stderr.write('usage: node test/support/makePhoneFrames.mjs DIR [--seed S] [--per-case N] [--size WxH]\n');
  process.exit(2);
}
const [dir] = positionals;
const [width, height] = values.size.split('x').map(Number);

function greyPng({ width: w, height: h, data }) {
  const rows = Buffer.alloc((w + 1) * h);
  for (let y = 0; y < h; y++) rows.set(data.subarray(y * w, (y + 1) * w), y * (w + 1) + 1);
  const chunk = (type, body) => {
    const typed = Buffer.concat([Buffer.from(type, 'ascii'), body]);
    const out = Buffer.alloc(12 + body.length);
    out.writeUInt32BE(body.length, 0);
    typed.copy(out, 4);
    out.writeUInt32BE(crc32(typed), 8 + body.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(w, 0);
  header.writeUInt32BE(h, 4);
  header.set([8, 0, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

mkdirSync(dir, { recursive: true });
const manifest = [];
const perCase = values['per-case'] === undefined ? {} : { perCase: Number(values['per-case']) };
for (const frame of phoneFrameSet({ seed: Number(values.seed), width, height, ...perCase })) {
  const file = `${frame.name}.png`;
  writeFileSync(join(dir, file), greyPng(frame.frame));
  const { expected } = frame;
  const holds = expected.kind === 'text' ? { text: expected.text } : expected.kind === 'binary' ? { hex: Buffer.from(expected.bytes).toString('hex') } : { text: null };
  manifest.push({ file, case: frame.case, about: frame.about, ...holds });
}
writeFileSync(join(dir, 'frames.json'), `${JSON.stringify({ width, height, seed: Number(values.seed), frames: manifest }, null, 2)}\n`);
process.stdout.write(`${manifest.length} frames in ${dir}\n`);
