import { beforeAll, describe, expect, it } from 'vitest';
import { hexOf } from '../hal/camera/decodedCode.js';
import { QrFrameDecoder } from '../hal/camera/qrFrameDecoder.js';
import { ZxingReader, zxingOptions } from '../hal/camera/zxingReader.js';
import { phoneFrameSet, type CaseName, type PhoneFrame } from './support/phoneFrames.js';

/*
 * The decoder on phone screens rendered from citygate's own codes
 * (test/support/phoneFrames.ts): the cases the old decoder missed (dark mode,
 * tilt, moiré, small codes), binary payloads, frames without a code, a region
 * of interest, the rescue passes, and the larger capture size. A few frames
 * per case; bench/cameraRecall.ts runs the whole set.
 */
let decoder: QrFrameDecoder;
beforeAll(async () => {
  decoder = await QrFrameDecoder.create({ tryHarder: true });
});

const framesOf = (cases: CaseName[], perCase: number, size = { width: 640, height: 480 }): PhoneFrame[] => [...phoneFrameSet({ seed: 3, perCase, cases, ...size })];

describe('phone screens', () => {
  const readable: CaseName[] = ['plain', 'dark-mode', 'tilt-20', 'tilt-35', 'moire', 'glare', 'small-issuer', 'small-holder'];
  it.each(framesOf(readable, 2).map((f) => [f.name, f] as const))('%s decodes to exactly its code', (_, { frame, expected }) => {
    expect(expected.kind).toBe('text');
    const code = decoder.decode(frame);
    expect(code?.text).toBe(expected.kind === 'text' ? expected.text : undefined);
    expect(Buffer.from(code!.bytes).toString('latin1')).toBe(code!.text);
  });

  it('a binary payload comes out as its bytes, with no text', () => {
    for (const { frame, expected } of framesOf(['binary'], 2)) {
      if (expected.kind !== 'binary') throw new Error('a binary case frame');
      const code = decoder.decode(frame);
      expect(code?.text).toBeUndefined();
      expect(hexOf(code!.bytes)).toBe(hexOf(expected.bytes));
      expect(code!.bytes[0]).toBe(0x80);
    }
  });

  it('a phone without a code, and the room, decode to nothing', () => {
    const empty = framesOf(['empty'], 4);
    for (const { frame } of empty) expect(decoder.decode(frame)).toBeUndefined();
  });

  it('a blurred code that one zxing-cpp pass sees but cannot read is read by the rescue passes', async () => {
    const single = await ZxingReader.create();
    const defaults = zxingOptions({ formats: ['QRCode'], textMode: 'Plain', returnErrors: true });
    const rescued = framesOf(['blur'], 6).filter(({ frame, expected }) => {
      const once = single.readFrame(frame, defaults);
      const seenNotRead = !once.some((s) => s.valid) && once.length > 0;
      return seenNotRead && expected.kind === 'text' && decoder.decode(frame)?.text === expected.text;
    });
    expect(rescued.length).toBeGreaterThanOrEqual(1);
  });

  it('1280x720: a holder code reads at the larger capture size too', () => {
    for (const { frame, expected } of framesOf(['small-holder', 'dark-mode'], 1, { width: 1280, height: 720 })) {
      expect(decoder.decode(frame)?.text).toBe(expected.kind === 'text' ? expected.text : null);
    }
  });
});

describe('region of interest', () => {
  it('decodes only the configured part of the frame', async () => {
    const [{ frame, expected }] = framesOf(['plain'], 1) as [PhoneFrame];
    const text = expected.kind === 'text' ? expected.text : '';
    const around = await QrFrameDecoder.create({ tryHarder: true, region: { x: 120, y: 40, width: 400, height: 400 } });
    expect(around.decode(frame)?.text).toBe(text);
    const corner = await QrFrameDecoder.create({ tryHarder: true, region: { x: 0, y: 0, width: 100, height: 100 } });
    expect(corner.decode(frame)).toBeUndefined();
    const outside = await QrFrameDecoder.create({ tryHarder: true, region: { x: 600, y: 0, width: 100, height: 100 } });
    expect(() => outside.decode(frame)).toThrow(/reaches outside the 640x480 frame/);
  });
});
