#!/usr/bin/env node
// Extracts from GNU Unifont the glyphs the passenger display needs into
// hal/i2c/font/glyphs.json: printable ASCII, ¥, and every other character
// written in src/core/messages.ts. Run it after changing a message:
//   node scripts/make-glyphs.mjs [/usr/share/unifont/unifont.hex]
// (Debian package `unifont`; needed only to regenerate, not at run time.)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const hexPath = process.argv[2] ?? '/usr/share/unifont/unifont.hex';
const messages = readFileSync(join(root, 'src/core/messages.ts'), 'utf8');

const wanted = new Set();
for (let c = 0x20; c <= 0x7e; c++) wanted.add(c);
wanted.add(0xa5);
for (const ch of messages) {
  const cp = ch.codePointAt(0);
  if (cp > 0x7e) wanted.add(cp);
}

let hex;
try {
  hex = readFileSync(hexPath, 'utf8');
} catch (error) {
  console.error(`make-glyphs: cannot read ${hexPath} (${error.code ?? error.message}). It comes from the Debian package \`unifont\`: sudo apt-get install unifont (or give the path of a unifont.hex as the first argument).`);
  process.exit(2);
}

const glyphs = {};
for (const line of hex.split('\n')) {
  const [code, bits] = line.split(':');
  if (!code || !bits) continue;
  const cp = parseInt(code, 16);
  if (wanted.has(cp)) glyphs[cp] = bits.trim();
}
const missing = [...wanted].filter((cp) => !(cp in glyphs));
if (missing.length > 0) {
  console.error(`not in ${hexPath}: ${missing.map((cp) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`).join(' ')}`);
  process.exit(1);
}

const sorted = Object.keys(glyphs).map(Number).sort((a, b) => a - b);
const out = {
  source: 'GNU Unifont (unifont.hex, SIL OFL 1.1 / GPL-2.0+ with font embedding exception), by scripts/make-glyphs.mjs',
  glyphs: Object.fromEntries(sorted.map((cp) => [String.fromCodePoint(cp), glyphs[cp]])),
};
writeFileSync(join(root, 'hal/i2c/font/glyphs.json'), `${JSON.stringify(out, null, 0).replace(/","/g, '",\n"')}\n`);
console.log(`${sorted.length} glyphs written to hal/i2c/font/glyphs.json`);
