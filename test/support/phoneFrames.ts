/*
 * Phone screens as a gate camera sees them, rendered from citygate's own CG1
 * codes (the test issuer of sim/, fixed Ed25519 keys, so signatures and frames
 * are the same on every run): a phone held up at an angle, its screen in light
 * or dark mode, the screen's pixel grid beating against the sensor's (moiré),
 * focus blur, glare on the glass, a dim lane, small codes of both CG1
 * profiles, binary payloads, and frames without a code. Everything comes from
 * a seed: `phoneFrameSet({ seed, perCase })` gives the same frames every time.
 *
 * Used by the camera tests (a few frames per case), the recall comparison and
 * the camera benchmark (bench/cameraRecall.ts, bench/camera.ts);
 * makePhoneFrames.mjs writes the set out as PNG files with a manifest.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import QRCode from 'qrcode';
import type { GreyFrame } from '../../hal/camera/greyFrame.js';
import { TestHolder, TestIssuer, type KeyPair } from '../../sim/issuer.js';
import { seededRandom } from '../../sim/seededRandom.js';

/** What a frame shows: the code's text, its bytes for a binary payload, or nothing. */
export type Expected = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Uint8Array } | { kind: 'none' };

export interface PhoneFrame {
  /** `<case>-<n>`. */
  name: string;
  case: CaseName;
  about: string;
  expected: Expected;
  frame: GreyFrame;
}

export const CASES = [
  'plain', 'dark-mode', 'tilt-20', 'tilt-35', 'moire', 'blur', 'glare', 'low-light',
  'small-issuer', 'small-holder', 'binary', 'empty',
] as const;
export type CaseName = (typeof CASES)[number];

/** How one phone is held and lit; sizes in image pixels, angles in degrees. */
export interface Scene {
  width: number;
  height: number;
  /** The symbol's side (quiet zone included) on the image, seen face on. */
  codePx: number;
  cx: number;
  cy: number;
  yaw: number;
  pitch: number;
  roll: number;
  /** Light modules on a dark screen. */
  dark: boolean;
  /** Screen white (or, in dark mode, module) level at full exposure. */
  screen: number;
  /** Depth of the screen's pixel-grid modulation, 0..1, and screen pixels per module. */
  moire: number;
  screenPixelsPerModule: number;
  blur: number;
  glare: { x: number; y: number; rx: number; ry: number; strength: number } | undefined;
  /** Whole-image gain: < 1 is a dim lane or a phone turned down. */
  exposure: number;
  noise: number;
  /** Room brightness behind the phone. */
  room: number;
}

const IAT = 1_800_000_000;

/** An Ed25519 key from a fixed seed: EdDSA signatures are deterministic. */
function fixedKey(seedByte: number): KeyPair {
  const privateKey = createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, seedByte)]),
    format: 'der',
    type: 'pkcs8',
  });
  return { alg: 'EdDSA', privateKey, publicKey: createPublicKey(privateKey) };
}

const ISSUER = new TestIssuer('cq.yukuaima', 'EdDSA', Buffer.from('cq-key-1'), fixedKey(1));
const HOLDER_KEY = fixedKey(3);

/** Profile (a): a fresh issuer-signed code for frame `n` (its own holder and cti). */
export function issuerCodeText(n: number): string {
  return ISSUER.issuerCode({ sub: `acct-${1000 + n}`, iat: IAT + n, category: 'adult', cti: Buffer.alloc(16, n & 0xff) });
}

/** Profile (b): a holder-bound offline code (version 13 or so: the densest CG1 symbol). */
export function holderCodeText(n: number): string {
  const holder = new TestHolder(ISSUER.boundCredential(HOLDER_KEY, { sub: `acct-${5000 + n}`, iat: IAT, cti: Buffer.alloc(16, (n + 128) & 0xff) }), HOLDER_KEY);
  return holder.offlineCode(IAT + n, { kid: Buffer.from('holder'), counter: n });
}

/** A binary payload the size of a transport code (version byte 0x80, then seeded bytes). */
export function binaryPayload(n: number): Uint8Array {
  const random = seededRandom(0xb1a + n);
  const bytes = new Uint8Array(180);
  bytes[0] = 0x80;
  for (let i = 1; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

/** The QR matrix (EC level M, as the issuer apps use): `size` x `size` modules, 1 = dark, row by row. */
export function qrModules(payload: string | Uint8Array): { size: number; data: Uint8Array } {
  const segments = typeof payload === 'string' ? payload : [{ data: payload, mode: 'byte' as const }];
  const { modules } = QRCode.create(segments, { errorCorrectionLevel: 'M' });
  return { size: modules.size, data: Uint8Array.from(modules.data) };
}

type Vec3 = [number, number, number];

/** Image position of a point (px, py) on the phone's plane, tilted and seen through a pinhole camera. */
function projector(scene: Scene): (px: number, py: number) => [number, number] {
  const r = (deg: number) => (deg * Math.PI) / 180;
  const focal = 1.1 * scene.width;
  return (px, py) => {
    let p: Vec3 = [px, py, 0];
    p = [p[0] * Math.cos(r(scene.roll)) - p[1] * Math.sin(r(scene.roll)), p[0] * Math.sin(r(scene.roll)) + p[1] * Math.cos(r(scene.roll)), p[2]];
    p = [p[0] * Math.cos(r(scene.yaw)) + p[2] * Math.sin(r(scene.yaw)), p[1], -p[0] * Math.sin(r(scene.yaw)) + p[2] * Math.cos(r(scene.yaw))];
    p = [p[0], p[1] * Math.cos(r(scene.pitch)) - p[2] * Math.sin(r(scene.pitch)), p[1] * Math.sin(r(scene.pitch)) + p[2] * Math.cos(r(scene.pitch))];
    const s = focal / (focal + p[2]);
    return [scene.cx + p[0] * s, scene.cy + p[1] * s];
  };
}

/** Coefficients of the homography taking the unit square to quad q0..q3 (clockwise from top-left), inverted: image -> square. */
function imageToSquare(q: [number, number][]): Float64Array {
  const [p0, p1, p2, p3] = q as [[number, number], [number, number], [number, number], [number, number]];
  const sx = p0[0] - p1[0] + p2[0] - p3[0];
  const sy = p0[1] - p1[1] + p2[1] - p3[1];
  const dx1 = p1[0] - p2[0];
  const dx2 = p3[0] - p2[0];
  const dy1 = p1[1] - p2[1];
  const dy2 = p3[1] - p2[1];
  const den = dx1 * dy2 - dx2 * dy1;
  const g = (sx * dy2 - dx2 * sy) / den;
  const h = (dx1 * sy - sx * dy1) / den;
  const a = p1[0] - p0[0] + g * p1[0], b = p3[0] - p0[0] + h * p3[0], c = p0[0];
  const d = p1[1] - p0[1] + g * p1[1], e = p3[1] - p0[1] + h * p3[1], f = p0[1];
  // Inverse of [[a b c] [d e f] [g h 1]] by cofactors: s = (A x + D y + G) / w, t = (B x + E y + H) / w, w = C x + F y + I.
  return Float64Array.of(e - f * h, f * g - d, d * h - e * g, c * h - b, a - c * g, b * g - a * h, b * f - c * e, c * d - a * f, a * e - b * d);
}

/**
 * Renders one phone: dark body, lit screen with a title bar and the symbol
 * (4-module quiet zone) in the middle; each image pixel is the mean of 3x3
 * samples, except the screen's pixel grid, which is sampled once per image
 * pixel so that it aliases into moiré the way a sensor makes it.
 */
export function renderScene(scene: Scene, payload: string | Uint8Array | undefined, seed: number): GreyFrame {
  const { width, height } = scene;
  const random = seededRandom(seed);
  const image = new Float32Array(width * height);
  // The room: a soft gradient with a few shapes (a poster, a door frame).
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) image[y * width + x] = scene.room * (0.75 + (0.35 * x) / width + (0.1 * y) / height);
  }
  for (let k = 0; k < 4; k++) {
    const x0 = Math.floor(random() * width), y0 = Math.floor(random() * height);
    const w = Math.floor((0.1 + random() * 0.3) * width), h = Math.floor((0.1 + random() * 0.3) * height);
    const level = scene.room * (0.4 + random() * 1.2);
    for (let y = y0; y < Math.min(height, y0 + h); y++) for (let x = x0; x < Math.min(width, x0 + w); x++) image[y * width + x] = level;
  }

  const symbol = payload === undefined ? undefined : qrModules(payload);
  const span = symbol ? symbol.size + 8 : 37;
  // Phone-plane units are image pixels of the symbol seen face on; the phone is 0.55 x 1.15 of its
  // height around a symbol that fills 80% of the screen's width.
  const codeSide = scene.codePx;
  const phoneW = codeSide / 0.8 / 0.92, phoneH = phoneW * 2.1;
  const screenW = phoneW * 0.92, screenH = phoneH * 0.9;
  const project = projector(scene);
  const quad = [project(-phoneW / 2, -phoneH / 2), project(phoneW / 2, -phoneH / 2), project(phoneW / 2, phoneH / 2), project(-phoneW / 2, phoneH / 2)];
  const m = imageToSquare(quad);
  const xs = quad.map((p) => p[0]), ys = quad.map((p) => p[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs))), x1 = Math.min(width - 1, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys))), y1 = Math.min(height - 1, Math.ceil(Math.max(...ys)));
  const background = scene.dark ? 0.1 : 1;
  const ink = scene.dark ? 0.92 : 0.06;
  const gridPitch = codeSide / span / scene.screenPixelsPerModule;

  // Brightness (0..1 of scene.screen) at a point of the phone plane, centred coordinates.
  const shade = (u: number, v: number): number => {
    if (Math.abs(u) > screenW / 2 || Math.abs(v) > screenH / 2) return -1; // the body
    if (v < -screenH / 2 + screenH * 0.08) return scene.dark ? 0.2 : 0.55; // title bar
    const cu = (u + codeSide / 2) / codeSide, cv = (v + codeSide / 2) / codeSide;
    if (!symbol || cu < 0 || cv < 0 || cu >= 1 || cv >= 1) return background;
    const mx = Math.floor(cu * span) - 4, my = Math.floor(cv * span) - 4;
    if (mx < 0 || my < 0 || mx >= symbol.size || my >= symbol.size) return background;
    return symbol.data[my * symbol.size + mx] ? ink : background;
  };

  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let inside = 0, sum = 0, onScreen = 0;
      for (let sy = 0; sy < 3; sy++) {
        for (let sx = 0; sx < 3; sx++) {
          const px = x + (sx + 0.5) / 3, py = y + (sy + 0.5) / 3;
          const w = m[2]! * px + m[5]! * py + m[8]!;
          const s = (m[0]! * px + m[3]! * py + m[6]!) / w, t = (m[1]! * px + m[4]! * py + m[7]!) / w;
          if (s < 0 || t < 0 || s >= 1 || t >= 1) continue;
          inside++;
          const level = shade((s - 0.5) * phoneW, (t - 0.5) * phoneH);
          if (level < 0) sum += 10;
          else {
            sum += level * scene.screen;
            onScreen++;
          }
        }
      }
      if (inside === 0) continue;
      let value = sum / inside;
      if (onScreen > 0 && scene.moire > 0) {
        // RGB stripes of the screen's pixels, point-sampled: the pattern the sensor aliases.
        const w = m[2]! * (x + 0.5) + m[5]! * (y + 0.5) + m[8]!;
        const s = (m[0]! * (x + 0.5) + m[3]! * (y + 0.5) + m[6]!) / w, t = (m[1]! * (x + 0.5) + m[4]! * (y + 0.5) + m[7]!) / w;
        const gu = ((s - 0.5) * phoneW) / gridPitch, gv = ((t - 0.5) * phoneH) / gridPitch;
        const stripe = 0.5 + 0.5 * Math.cos(2 * Math.PI * gu * 3);
        const row = 0.5 + 0.5 * Math.cos(2 * Math.PI * gv);
        value *= 1 - scene.moire * (0.6 * stripe + 0.4 * row);
      }
      image[y * width + x] = image[y * width + x]! + (value - image[y * width + x]!) * (inside / 9);
    }
  }

  if (scene.glare) {
    const { x: gx, y: gy, rx, ry, strength } = scene.glare;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const d = ((x - gx) / rx) ** 2 + ((y - gy) / ry) ** 2;
        if (d < 6) image[y * width + x] = image[y * width + x]! + strength * Math.exp(-d);
      }
    }
  }
  const blurred = scene.blur > 0 ? gaussianBlur(image, width, height, scene.blur) : image;
  const out = new Uint8Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const n = scene.noise > 0 ? (random() + random() + random() - 1.5) * 2 * scene.noise : 0;
    out[i] = Math.max(0, Math.min(255, Math.round(blurred[i]! * scene.exposure + n)));
  }
  return { width, height, data: out };
}

function gaussianBlur(image: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const radius = Math.ceil(sigma * 3);
  const kernel: number[] = [];
  for (let i = -radius; i <= radius; i++) kernel.push(Math.exp(-(i * i) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, b) => a + b, 0);
  const pass = (src: Float32Array, horizontal: boolean): Float32Array => {
    const dst = new Float32Array(src.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let sum = 0;
        for (let k = -radius; k <= radius; k++) {
          const xx = horizontal ? Math.min(width - 1, Math.max(0, x + k)) : x;
          const yy = horizontal ? y : Math.min(height - 1, Math.max(0, y + k));
          sum += src[yy * width + xx]! * kernel[k + radius]!;
        }
        dst[y * width + x] = sum / total;
      }
    }
    return dst;
  };
  return pass(pass(image, true), false);
}

/** A scene of `kind`, with the freedom each case leaves (position, angles, lighting) drawn from `random`. */
function sceneOf(kind: CaseName, width: number, height: number, random: () => number): Scene {
  const between = (a: number, b: number) => a + (b - a) * random();
  const sign = () => (random() < 0.5 ? -1 : 1);
  const scale = height / 480;
  const base: Scene = {
    width,
    height,
    codePx: between(230, 300) * scale,
    cx: width / 2 + between(-40, 40) * scale,
    cy: height / 2 + between(-30, 30) * scale,
    yaw: sign() * between(0, 10),
    pitch: sign() * between(0, 8),
    roll: sign() * between(0, 15),
    dark: false,
    screen: between(200, 235),
    moire: between(0, 0.08),
    screenPixelsPerModule: between(5, 9),
    blur: between(0.5, 0.9),
    glare: undefined,
    exposure: 1,
    noise: between(1, 3),
    room: between(60, 140),
  };
  const glareSpot = () => ({ x: base.cx + between(-80, 80) * scale, y: base.cy + between(-80, 80) * scale, rx: between(40, 80) * scale, ry: between(25, 50) * scale, strength: between(120, 220) });
  switch (kind) {
    case 'plain':
    case 'binary':
      return base;
    case 'dark-mode':
      return { ...base, dark: true };
    case 'tilt-20':
      return { ...base, yaw: sign() * 20, pitch: sign() * between(0, 6), codePx: between(260, 320) * scale };
    case 'tilt-35':
      return { ...base, yaw: sign() * 35, pitch: sign() * between(0, 6), codePx: between(280, 340) * scale };
    case 'moire':
      return { ...base, moire: between(0.35, 0.55), screenPixelsPerModule: between(2.2, 3.2), noise: between(4, 7) };
    case 'blur':
      return { ...base, blur: 2 };
    case 'glare':
      return { ...base, glare: glareSpot() };
    case 'low-light':
      return { ...base, exposure: between(0.1, 0.16), noise: between(3, 5), room: between(20, 60) };
    case 'small-issuer':
      return { ...base, codePx: between(130, 150) * scale, yaw: sign() * between(0, 12) };
    case 'small-holder':
      return { ...base, codePx: 160 * scale, yaw: sign() * between(0, 12) };
    case 'empty':
      return { ...base, glare: random() < 0.5 ? glareSpot() : undefined };
  }
}

const ABOUT: Record<CaseName, string> = {
  plain: 'issuer code on a phone, light mode, held nearly face on',
  'dark-mode': 'dark mode: light modules on a dark screen',
  'tilt-20': 'phone turned 20 degrees',
  'tilt-35': 'phone turned 35 degrees',
  moire: 'screen pixel grid aliasing against the sensor, with noise',
  blur: 'out of focus: gaussian sigma 2 px',
  glare: 'a ceiling light reflected on the glass',
  'low-light': 'a dim lane or a dimmed screen: a tenth to a sixth of the exposure, sensor noise',
  'small-issuer': 'issuer code 130-150 px wide',
  'small-holder': 'holder-bound offline code 160 px wide',
  binary: 'a 180-byte binary payload (version byte 0x80, as a transport code)',
  empty: 'a phone with no code on its screen',
};

/** What frame `n` of a case shows. */
function payloadOf(kind: CaseName, n: number): { payload: string | Uint8Array | undefined; expected: Expected } {
  if (kind === 'empty') return { payload: undefined, expected: { kind: 'none' } };
  if (kind === 'binary') {
    const bytes = binaryPayload(n);
    return { payload: bytes, expected: { kind: 'binary', bytes } };
  }
  const text = kind === 'small-holder' || (kind !== 'small-issuer' && n % 4 === 3) ? holderCodeText(n) : issuerCodeText(n);
  return { payload: text, expected: { kind: 'text', text } };
}

export interface SetOptions {
  seed?: number;
  perCase?: number;
  width?: number;
  height?: number;
  cases?: readonly CaseName[];
}

/** `perCase` frames of every case (default 40, 20 for the small ones), deterministic from `seed`. */
export function* phoneFrameSet(options: SetOptions = {}): Generator<PhoneFrame> {
  const { seed = 15, width = 640, height = 480, cases = CASES } = options;
  for (const kind of cases) {
    const count = options.perCase ?? (kind.startsWith('small-') || kind === 'binary' ? 20 : 40);
    for (let n = 0; n < count; n++) {
      const frameSeed = seed * 100_003 + CASES.indexOf(kind) * 1009 + n;
      const scene = sceneOf(kind, width, height, seededRandom(frameSeed));
      const { payload, expected } = payloadOf(kind, n);
      yield { name: `${kind}-${n}`, case: kind, about: ABOUT[kind], expected, frame: renderScene(scene, payload, frameSeed) };
    }
  }
}
