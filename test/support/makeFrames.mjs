/*
 * Regenerates the recorded camera frames in test/fixtures/frames/: 640x480
 * GRAY8 frames stored as grey PNG (row filters + deflate keep them small; the
 * driver's own PNG reader loads them), with real CG1 codes (from the test
 * issuer) rendered the way a gate camera sees them (perspective, blur, low
 * contrast, a phone screen with glare), and frames with no code. Also one RGB
 * PNG, the kind of file fswebcam writes for the node-webcam driver.
 *
 * Run after a build: `npx tsc -p . && node test/support/makeFrames.mjs`.
 * Everything is deterministic (seeded pixels, fixed Ed25519 keys, fixed cti):
 * a rerun writes the same bytes. frames.json records the text each frame holds.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import QRCode from 'qrcode';
import { TestHolder, TestIssuer } from '../../dist/sim/issuer.js';

const WIDTH = 640;
const HEIGHT = 480;
const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'frames');
const IAT = 1_800_000_000;

function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The symbol as a function of code space (0..1 over symbol plus a 4-module quiet zone): 1 = dark. */
function symbolOf(text) {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const quiet = 4;
  const span = modules.size + 2 * quiet;
  return (u, v) => {
    const x = Math.floor(u * span) - quiet;
    const y = Math.floor(v * span) - quiet;
    if (x < 0 || y < 0 || x >= modules.size || y >= modules.size) return 0;
    return modules.data[y * modules.size + x] ? 1 : 0;
  };
}

/** Homography taking the unit square to the quad p0..p3 (clockwise from top-left). */
function squareToQuad([p0, p1, p2, p3]) {
  const sx = p0[0] - p1[0] + p2[0] - p3[0];
  const sy = p0[1] - p1[1] + p2[1] - p3[1];
  const dx1 = p1[0] - p2[0];
  const dx2 = p3[0] - p2[0];
  const dy1 = p1[1] - p2[1];
  const dy2 = p3[1] - p2[1];
  const den = dx1 * dy2 - dx2 * dy1;
  const g = (sx * dy2 - dx2 * sy) / den;
  const h = (dx1 * sy - sx * dy1) / den;
  return [
    [p1[0] - p0[0] + g * p1[0], p3[0] - p0[0] + h * p3[0], p0[0]],
    [p1[1] - p0[1] + g * p1[1], p3[1] - p0[1] + h * p3[1], p0[1]],
    [g, h, 1],
  ];
}

function invert3([[a, b, c], [d, e, f], [g, h, i]]) {
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

/** Corners of a square of `size` px centred at (cx, cy), tilted in 3D (degrees) and seen by a pinhole camera. */
function viewedSquare({ size, cx = WIDTH / 2, cy = HEIGHT / 2, yaw = 0, pitch = 0, roll = 0, focal = 700 }) {
  const r = (deg) => (deg * Math.PI) / 180;
  const corners = [[-1, -1], [1, -1], [1, 1], [-1, 1]].map(([x, y]) => [(x * size) / 2, (y * size) / 2, 0]);
  return corners.map(([x0, y0]) => {
    const x1 = x0 * Math.cos(r(roll)) - y0 * Math.sin(r(roll));
    const y1 = x0 * Math.sin(r(roll)) + y0 * Math.cos(r(roll));
    const x2 = x1 * Math.cos(r(yaw));
    const z2 = x1 * Math.sin(r(yaw));
    const y3 = y1 * Math.cos(r(pitch)) - z2 * Math.sin(r(pitch));
    const z3 = y1 * Math.sin(r(pitch)) + z2 * Math.cos(r(pitch));
    const scale = focal / (focal + z3);
    return [cx + x2 * scale, cy + y3 * scale];
  });
}

/** Draws `shade(u, v)` (0..1 darkness) into the quad, 3x3 supersampled: what a sensor pixel integrates. */
function paintQuad(image, quad, shade, dark, light) {
  const toSquare = invert3(squareToQuad(quad));
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const x1 = Math.min(WIDTH - 1, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const y1 = Math.min(HEIGHT - 1, Math.ceil(Math.max(...ys)));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let inside = 0;
      let darkness = 0;
      for (let sy = 0; sy < 3; sy++) {
        for (let sx = 0; sx < 3; sx++) {
          const px = x + (sx + 0.5) / 3;
          const py = y + (sy + 0.5) / 3;
          const w = toSquare[2][0] * px + toSquare[2][1] * py + toSquare[2][2];
          const u = (toSquare[0][0] * px + toSquare[0][1] * py + toSquare[0][2]) / w;
          const v = (toSquare[1][0] * px + toSquare[1][1] * py + toSquare[1][2]) / w;
          if (u < 0 || v < 0 || u >= 1 || v >= 1) continue;
          inside++;
          darkness += shade(u, v);
        }
      }
      if (inside === 0) continue;
      const painted = light + (dark - light) * (darkness / inside);
      image[y * WIDTH + x] = image[y * WIDTH + x] + ((painted - image[y * WIDTH + x]) * inside) / 9;
    }
  }
}

function blank(level) {
  return new Float32Array(WIDTH * HEIGHT).fill(level);
}

function gaussianBlur(image, sigma) {
  const radius = Math.ceil(sigma * 3);
  const kernel = [];
  for (let i = -radius; i <= radius; i++) kernel.push(Math.exp(-(i * i) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, b) => a + b, 0);
  const pass = (src, horizontal) => {
    const dst = new Float32Array(src.length);
    for (let y = 0; y < HEIGHT; y++) {
      for (let x = 0; x < WIDTH; x++) {
        let sum = 0;
        for (let k = -radius; k <= radius; k++) {
          const xx = horizontal ? Math.min(WIDTH - 1, Math.max(0, x + k)) : x;
          const yy = horizontal ? y : Math.min(HEIGHT - 1, Math.max(0, y + k));
          sum += src[yy * WIDTH + xx] * kernel[k + radius];
        }
        dst[y * WIDTH + x] = sum / total;
      }
    }
    return dst;
  };
  return pass(pass(image, true), false);
}

/** Lighting: multiplies by a smooth field (vignette and a side light). */
function light(image, { vignette = 0.25, sideFrom = 1, sideTo = 1 }) {
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const dx = (x - WIDTH / 2) / (WIDTH / 2);
      const dy = (y - HEIGHT / 2) / (HEIGHT / 2);
      const side = sideFrom + ((sideTo - sideFrom) * x) / WIDTH;
      image[y * WIDTH + x] *= (1 - vignette * (dx * dx + dy * dy) * 0.5) * side;
    }
  }
}

/** A bright elliptical glare (a ceiling light reflected in a phone's glass). */
function glare(image, { cx, cy, rx, ry, strength }) {
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
      if (d < 4) image[y * WIDTH + x] += strength * Math.exp(-d);
    }
  }
}

/** Sensor noise in 4x4 cells: breaks up flat areas while keeping the files small. */
function noise(image, amplitude, random) {
  for (let y = 0; y < HEIGHT; y += 4) {
    for (let x = 0; x < WIDTH; x += 4) {
      const n = Math.round((random() * 2 - 1) * amplitude);
      for (let oy = 0; oy < 4; oy++) for (let ox = 0; ox < 4; ox++) image[(y + oy) * WIDTH + x + ox] += n;
    }
  }
}

/** Quantised to 8 bits in steps of `step` (a cheap sensor's 6-bit output, and smaller files). */
function toGrey(image, step = 4) {
  const out = new Uint8Array(WIDTH * HEIGHT);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(image[i] / step) * step));
  return out;
}

const PAETH = (a, b, c) => {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
};

/**
 * Filtered scanlines, each row with the filter that leaves the smallest
 * residuals (the usual PNG heuristic), or with filter `y % 5` when `cycle`
 * (so that a decoder test meets every filter type).
 */
function filterRows(pixels, channels, cycle) {
  const stride = WIDTH * channels;
  const out = Buffer.alloc((stride + 1) * HEIGHT);
  const used = [0, 0, 0, 0, 0];
  for (let y = 0; y < HEIGHT; y++) {
    let best;
    for (const filter of cycle ? [y % 5] : [0, 1, 2, 3, 4]) {
      const row = Buffer.alloc(stride);
      let cost = 0;
      for (let i = 0; i < stride; i++) {
        const a = i >= channels ? pixels[y * stride + i - channels] : 0;
        const b = y > 0 ? pixels[(y - 1) * stride + i] : 0;
        const c = i >= channels && y > 0 ? pixels[(y - 1) * stride + i - channels] : 0;
        const predicted = [0, a, b, (a + b) >> 1, PAETH(a, b, c)][filter];
        row[i] = (pixels[y * stride + i] - predicted) & 0xff;
        cost += row[i] < 128 ? row[i] : 256 - row[i];
      }
      if (!best || cost < best.cost) best = { filter, row, cost };
    }
    used[best.filter]++;
    out[y * (stride + 1)] = best.filter;
    best.row.copy(out, y * (stride + 1) + 1);
  }
  return { data: out, used };
}

/** A PNG, 8 bits per sample: colour type 0 (grey) for 1 channel, 2 (RGB) for 3. */
function png(pixels, channels, cycle = false) {
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(WIDTH, 0);
  header.writeUInt32BE(HEIGHT, 4);
  header.set([8, channels === 1 ? 0 : 2, 0, 0, 0], 8);
  const { data, used } = filterRows(pixels, channels, cycle);
  const file = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(data, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  return { file, used };
}

function tinted(grey, tint) {
  const rgb = Buffer.alloc(grey.length * 3);
  for (let i = 0; i < grey.length; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.min(255, Math.round(grey[i] * tint[c]));
  }
  return rgb;
}

/** A scene behind the code: a wall with a soft lighting gradient. */
function wall(level, random) {
  const image = blank(level);
  light(image, { vignette: 0.3, sideFrom: 0.9, sideTo: 1.1 });
  noise(image, 2, random);
  return image;
}

/** Text-like marks: lines of word-shaped dark strokes, as on a poster or a ticket printout. */
function printedText(image, random, { top, bottom, left, right, ink }) {
  for (let y = top; y + 14 < bottom; y += 22) {
    let x = left;
    while (x < right - 20) {
      const word = 12 + Math.floor(random() * 50);
      for (let gx = x; gx < Math.min(x + word, right); gx += 3 + Math.floor(random() * 3)) {
        const tall = random() < 0.3 ? 14 : 9;
        for (let yy = y + 14 - tall; yy < y + 14; yy++) {
          image[yy * WIDTH + gx] = ink;
          if (random() < 0.5) image[yy * WIDTH + gx + 1] = ink;
        }
      }
      x += word + 8 + Math.floor(random() * 8);
    }
  }
}

function codeFrame(text, { scene = 170, view, dark = 25, paper = 235, blur = 0.7, lighting = {}, grain = 0, seed }) {
  const random = seeded(seed);
  const image = blank(scene);
  light(image, { vignette: 0.3, sideFrom: 0.9, sideTo: 1.1 });
  paintQuad(image, viewedSquare(view), symbolOf(text), dark, paper);
  light(image, lighting);
  noise(image, grain, random);
  return toGrey(blur > 0 ? gaussianBlur(image, blur) : image);
}

/** A phone held up to the camera: dark surround, black bezel, lit screen with the code, glare on the glass. */
function phoneFrame(text, { yaw, roll, glareAt, seed }) {
  const random = seeded(seed);
  const image = blank(28);
  noise(image, 3, random);
  const body = viewedSquare({ size: 330, yaw, roll, focal: 800 }).map(([x, y], i) => [x + (i === 0 || i === 3 ? -20 : 20), y + (i < 2 ? -70 : 70)]);
  paintQuad(image, body, () => 1, 12, 12);
  const screen = viewedSquare({ size: 300, yaw, roll, focal: 800 }).map(([x, y], i) => [x, y + (i < 2 ? -45 : 45)]);
  paintQuad(image, screen, () => 0, 0, 215);
  paintQuad(image, viewedSquare({ size: 270, yaw, roll, focal: 800 }), symbolOf(text), 18, 215);
  glare(image, { ...glareAt, strength: 70 });
  return toGrey(gaussianBlur(image, 0.8));
}

function noCodeFrames() {
  const random = seeded(7);
  const noiseImage = blank(110);
  for (let y = 0; y < HEIGHT; y += 4) {
    for (let x = 0; x < WIDTH; x += 4) {
      const n = Math.floor(random() * 8) * 24;
      for (let oy = 0; oy < 4; oy++) for (let ox = 0; ox < 4; ox++) noiseImage[(y + oy) * WIDTH + x + ox] = 20 + n;
    }
  }
  const gradient = blank(0);
  for (let y = 0; y < HEIGHT; y++) for (let x = 0; x < WIDTH; x++) gradient[y * WIDTH + x] = 30 + (200 * (x + y)) / (WIDTH + HEIGHT);
  const text = wall(225, random);
  printedText(text, random, { top: 120, bottom: 360, left: 140, right: 500, ink: 35 });
  const empty = blank(28);
  noise(empty, 3, random);
  return {
    'nocode-noise': toGrey(noiseImage),
    'nocode-gradient': toGrey(gaussianBlur(gradient, 1), 2),
    'nocode-text': toGrey(gaussianBlur(text, 0.7)),
    'nocode-dark': toGrey(empty),
  };
}

/** An Ed25519 key from a fixed seed: EdDSA signatures are deterministic, so the frames are the same on every run. */
function fixedKey(seedByte) {
  const privateKey = createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, seedByte)]),
    format: 'der',
    type: 'pkcs8',
  });
  return { alg: 'EdDSA', privateKey, publicKey: createPublicKey(privateKey) };
}

function codes() {
  const issuer = new TestIssuer('cq.yukuaima', 'EdDSA', Buffer.from('cq-key-1'), fixedKey(1));
  const tianfu = new TestIssuer('sc.tianfu', 'EdDSA', Buffer.from('tf-key-3'), fixedKey(2));
  const cti = (n) => Buffer.alloc(16, n);
  const holder = new TestHolder(issuer.boundCredential(fixedKey(3), { sub: 'acct-2077', iat: IAT, cti: cti(3) }), fixedKey(3));
  return {
    senior: issuer.issuerCode({ sub: 'acct-1042', iat: IAT, category: 'senior', cti: cti(1) }),
    student: tianfu.issuerCode({ sub: 'acct-3310', iat: IAT, category: 'student', cti: cti(2) }),
    offline: holder.offlineCode(IAT, { kid: Buffer.from('holder') }),
  };
}

function main() {
  const { senior, student, offline } = codes();
  const frames = [
    { name: 'code-straight', text: senior, grey: codeFrame(senior, { view: { size: 300 }, seed: 1 }), about: 'flat, centred, 5 px modules' },
    { name: 'code-angle-30', text: senior, grey: codeFrame(senior, { view: { size: 320, yaw: 30, pitch: 10, roll: 12 }, seed: 2 }), about: 'perspective: 30 deg yaw, 10 deg pitch, 12 deg roll' },
    { name: 'code-angle-35', text: student, grey: codeFrame(student, { view: { size: 360, yaw: -35, pitch: 10, roll: 12 }, seed: 3 }), about: 'perspective: 35 deg yaw, 10 deg pitch, 12 deg roll' },
    { name: 'code-blur', text: senior, grey: codeFrame(senior, { view: { size: 300, roll: 5 }, blur: 1.8, seed: 4 }), about: 'out of focus: gaussian sigma 1.8 px on 5 px modules' },
    { name: 'code-low-contrast', text: student, grey: codeFrame(student, { view: { size: 320, yaw: 15 }, dark: 110, paper: 170, grain: 3, lighting: { sideFrom: 0.8, sideTo: 1.1 }, seed: 5 }), about: 'low contrast: ink 110 on paper 170, side light, sensor noise' },
    { name: 'code-angle-45', text: student, grey: codeFrame(student, { view: { size: 360, yaw: -45, pitch: -12, roll: -20, focal: 600 }, seed: 13 }), about: 'perspective: 45 deg yaw, 12 deg pitch, 20 deg roll (beyond the @zxing/library decoder the gate had before zxing-cpp)' },
    { name: 'code-faint', text: student, grey: codeFrame(student, { view: { size: 300 }, dark: 135, paper: 160, grain: 3, seed: 12 }), about: 'faint: ink 135 on paper 160 with noise (beyond the @zxing/library decoder too)' },
    { name: 'code-small', text: senior, grey: codeFrame(senior, { view: { size: 190, cx: 250, cy: 200, roll: -8 }, seed: 6 }), about: 'far away: 3 px modules, off centre' },
    { name: 'code-offline', text: offline, grey: codeFrame(offline, { view: { size: 380, yaw: 12, roll: 4 }, seed: 8 }), about: 'holder-bound offline code (version 13), slight angle' },
    { name: 'code-phone', text: senior, grey: phoneFrame(senior, { yaw: 18, roll: 8, glareAt: { cx: 420, cy: 150, rx: 70, ry: 40 }, seed: 9 }), about: 'on a phone screen: dark surround, black bezel, glare on the glass' },
    { name: 'code-phone-offline', text: offline, grey: phoneFrame(offline, { yaw: -15, roll: 10, glareAt: { cx: 240, cy: 330, rx: 50, ry: 30 }, seed: 10 }), about: 'offline code on a phone screen, glare over the lower finder pattern' },
    { name: 'toodamaged-blur', text: null, grey: codeFrame(senior, { view: { size: 300 }, blur: 4.5, seed: 11 }), about: 'a code so out of focus it must give nothing (gaussian sigma 4.5 px on 5 px modules)' },
    { name: 'toodamaged-angle-76', text: null, grey: codeFrame(student, { view: { size: 360, yaw: -76, pitch: -15, roll: -20, focal: 600 }, seed: 13 }), about: 'a code seen too steeply to read: 76 deg yaw, 15 deg pitch, 20 deg roll' },
    { name: 'toodamaged-contrast', text: null, grey: codeFrame(student, { view: { size: 300 }, dark: 150, paper: 160, grain: 3, seed: 12 }), about: 'a code too faint to read: ink 150 on paper 160 with noise' },
    ...Object.entries(noCodeFrames()).map(([name, grey]) => ({ name, text: null, grey, about: name.replace('nocode-', 'no code: ') })),
  ];

  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const manifest = [];
  for (const frame of frames) {
    const file = `${frame.name}.png`;
    writeFileSync(join(OUT, file), png(frame.grey, 1).file);
    manifest.push({ file, text: frame.text, about: frame.about });
  }
  const still = frames.find((f) => f.name === 'code-small');
  const { file, used } = png(tinted(still.grey, [1.0, 0.92, 0.8]), 3, true);
  if (used.some((count) => count === 0)) throw new Error(`the RGB still must use every PNG filter type, used ${used.join(',')}`);
  writeFileSync(join(OUT, 'fswebcam-still.png'), file);
  manifest.push({ file: 'fswebcam-still.png', text: still.text, about: 'RGB PNG as fswebcam writes it (code-small, warm tint)' });
  writeFileSync(join(OUT, 'frames.json'), `${JSON.stringify({ width: WIDTH, height: HEIGHT, frames: manifest }, null, 2)}\n`);
}

main();
