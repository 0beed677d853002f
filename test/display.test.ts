import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATEGORIES } from '../src/core/credentials/credential.js';
import { acceptScreen, IDLE_SCREEN, refusalScreen } from '../src/core/messages.js';
import { CONTRACT_REASONS, GATE_REASONS, type RefusalReason } from '../src/core/reasons.js';
import { Framebuffer, SCREEN_WIDTH } from '../hal/i2c/framebuffer.js';
import { GATE_FONT } from '../hal/i2c/glyphFont.js';
import { createOledDisplay, type OledDisplaySettings } from '../hal/i2c/oledDisplay.js';
import { layoutPages, renderPage, wrap } from '../hal/i2c/screenLayout.js';
import { initSequence } from '../hal/i2c/ssd1306.js';
import { FakeI2cBus, type I2cOp } from './support/fakeI2c.js';
import { StepClock } from './support/stepClock.js';

const REFUSALS = [...CONTRACT_REASONS.filter((r) => r !== 'ok'), ...GATE_REASONS] as RefusalReason[];
const SCREENS = [IDLE_SCREEN, ...REFUSALS.map(refusalScreen), ...CATEGORIES.flatMap((c) => [acceptScreen(c, undefined), acceptScreen(c, 12345)])];

/** The text of every string literal in a source file (template parts outside ${...}). */
function stringLiterals(source: string): string[] {
  const literals = source.match(/'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g) ?? [];
  return literals.map((l) => l.slice(1, -1).replace(/\$\{[^}]*\}/g, ''));
}

describe('glyph subset', () => {
  it('has every character written in src/core/messages.ts (regenerate with scripts/make-glyphs.mjs)', () => {
    const source = readFileSync(new URL('../src/core/messages.ts', import.meta.url), 'utf8');
    const chars = new Set(stringLiterals(source).join(''));
    expect(chars.has('请') && chars.has('¥')).toBe(true);
    expect([...chars].filter((c) => !GATE_FONT.has(c))).toEqual([]);
  });

  it('has every character of every screen the gate builds, and all printable ASCII', () => {
    const text = SCREENS.flat().map((l) => l.zh + l.en).join('') + String.fromCharCode(...Array.from({ length: 95 }, (_, i) => 0x20 + i));
    expect([...new Set(text)].filter((c) => !GATE_FONT.has(c))).toEqual([]);
  });
});

describe('framebuffer', () => {
  it('draws a known glyph at known pixels (Unifont A, 8x16)', () => {
    const fb = new Framebuffer();
    fb.drawText(GATE_FONT, 'A', 0, 0, 1);
    const rows = fb.toAscii().split('\n').slice(0, 16).map((r) => r.slice(0, 8));
    expect(rows).toEqual(['........', '........', '........', '........', '...##...', '..#..#..', '..#..#..', '.#....#.', '.#....#.', '.######.', '.#....#.', '.#....#.', '.#....#.', '.#....#.', '........', '........']);
  });

  it('lays pixels out as SSD1306 pages: byte = page * 128 + x, bit = y % 8', () => {
    const fb = new Framebuffer();
    fb.set(5, 10);
    fb.set(127, 63);
    expect(fb.bytes[128 + 5]).toBe(0b100);
    expect(fb.bytes[7 * 128 + 127]).toBe(0b1000_0000);
    expect(fb.bytes.reduce((n, b) => n + (b === 0 ? 0 : 1), 0)).toBe(2);
  });

  it('draws a wide (16x16) glyph and doubles it at scale 2', () => {
    const fb = new Framebuffer();
    fb.drawText(GATE_FONT, '请', 0, 0, 1);
    fb.drawText(GATE_FONT, '请', 32, 0, 2);
    const hex = '0040404027FC204003F80040E7FE200023F8220823F822082BF8320822280210';
    for (let y = 0; y < 16; y++) {
      const bits = parseInt(hex.slice(y * 4, y * 4 + 4), 16);
      for (let x = 0; x < 16; x++) {
        const on = ((bits >> (15 - x)) & 1) === 1;
        expect(fb.get(x, y)).toBe(on);
        expect([fb.get(32 + 2 * x, 2 * y), fb.get(33 + 2 * x, 2 * y + 1)]).toEqual([on, on]);
      }
    }
  });

  it('draws a box for a character outside the subset', () => {
    const fb = new Framebuffer();
    fb.drawText(GATE_FONT, '\u{1F600}', 0, 0, 1);
    expect(fb.toAscii().split('\n')[1]!.slice(0, 8)).toBe('.######.');
  });
});

describe('layout', () => {
  it('wraps English at spaces and Chinese anywhere, never wider than the panel', () => {
    expect(wrap(GATE_FONT, 'Tap card or scan code', 128)).toEqual(['Tap card or scan', 'code']);
    expect(wrap(GATE_FONT, '此卡码已停用，请咨询工作人员', 128)).toEqual(['此卡码已停用，请', '咨询工作人员']);
    expect(wrap(GATE_FONT, 'abcdefghijklmnopqrstu', 128)).toEqual(['abcdefghijklmnop', 'qrstu']);
    expect(wrap(GATE_FONT, '扣费 123.45 元', 128)).toEqual(['扣费 123.45 元']);
  });

  it('keeps every word of every screen, each row within 128 px and each page within 64 px', () => {
    for (const screen of SCREENS) {
      for (const large of [false, true]) {
        const pages = layoutPages(GATE_FONT, screen, { large });
        for (const page of pages) {
          expect(page.reduce((h, r) => h + 16 * r.scale, 0)).toBeLessThanOrEqual(64);
          for (const row of page) expect(GATE_FONT.measure(row.text) * row.scale).toBeLessThanOrEqual(SCREEN_WIDTH);
        }
        const shown = pages.flat().map((r) => r.text).join('').replace(/ /g, '');
        expect(shown).toBe(screen.map((l) => l.zh + l.en).join('').replace(/ /g, ''));
      }
    }
  });

  it('puts a refusal on two pages when it needs six rows, a line never split', () => {
    const pages = layoutPages(GATE_FONT, refusalScreen('deny-listed'));
    expect(pages.map((p) => p.map((r) => r.text))).toEqual([
      ['禁止通行', 'Refused'],
      ['此卡码已停用，请', '咨询工作人员', 'Blocked, please', 'ask staff'],
    ]);
  });

  it('large: the first line in Chinese at double size', () => {
    const pages = layoutPages(GATE_FONT, acceptScreen('senior', undefined), { large: true });
    expect(pages).toEqual([
      [
        { text: '请通行', scale: 2 },
        { text: 'Please pass', scale: 1 },
      ],
      [
        { text: '老年卡', scale: 1 },
        { text: 'Senior', scale: 1 },
      ],
    ]);
  });

  it('centres a page on the panel', () => {
    const fb = renderPage(GATE_FONT, [{ text: 'A', scale: 1 }]);
    // One 16 px row on 64: top at 24; one 8 px glyph on 128: left at 60. Unifont A's top pixels are row 4, columns 3-4.
    expect([fb.get(63, 28), fb.get(64, 28), fb.get(62, 28)]).toEqual([true, true, false]);
  });
});

const SETTINGS: OledDisplaySettings = { bus: 1, address: 0x3c, transfer: 'i2c', columnOffset: 0, flip: false, pageMs: 3000 };

/** The data bytes each page write carried, by page, from a log of i2cWrite calls. */
function pagesWritten(log: I2cOp[]): Map<number, number[]> {
  const pages = new Map<number, number[]>();
  let page = -1;
  for (const op of log) {
    if (op.op !== 'i2cWrite') continue;
    if (op.bytes[0] === 0x00 && op.bytes.length === 4 && (op.bytes[1]! & 0xf0) === 0xb0) page = op.bytes[1]! & 0x0f;
    if (op.bytes[0] === 0x40) pages.set(page, op.bytes.slice(1));
  }
  return pages;
}

describe('SSD1306 on a fake bus', () => {
  it('initialises, clears all 8 pages, then switches on', async () => {
    const bus = new FakeI2cBus([0x3c]);
    await createOledDisplay(SETTINGS, { clock: new StepClock(), onFault: () => undefined, openBus: bus.open });
    const writes = bus.log.map((op) => (op.op === 'i2cWrite' ? op.bytes : []));
    expect(writes[0]).toEqual([0x00, ...initSequence(false)]);
    for (let p = 0; p < 8; p++) {
      expect(writes[1 + 2 * p]).toEqual([0x00, 0xb0 + p, 0x00, 0x10]);
      expect(writes[2 + 2 * p]).toEqual([0x40, ...new Array(128).fill(0)]);
    }
    expect(writes[17]).toEqual([0x00, 0xaf]);
    expect(writes).toHaveLength(18);
  });

  it('sends a full frame as the framebuffer holds it, and later only the pages that changed', async () => {
    const bus = new FakeI2cBus([0x3c]);
    const display = await createOledDisplay(SETTINGS, { clock: new StepClock(), onFault: () => undefined, openBus: bus.open });
    bus.log.length = 0;
    await display.show(refusalScreen('expired'));
    const expected = renderPage(GATE_FONT, layoutPages(GATE_FONT, refusalScreen('expired'))[0]!);
    const first = pagesWritten(bus.log);
    expect([...first.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7].filter((p) => expected.page(p).some((b) => b !== 0)));
    for (const [p, bytes] of first) expect(bytes).toEqual([...expected.page(p)]);

    bus.log.length = 0;
    await display.show(refusalScreen('stale'));
    const second = pagesWritten(bus.log);
    const expectedSecond = renderPage(GATE_FONT, layoutPages(GATE_FONT, refusalScreen('stale'))[0]!);
    const changed = [0, 1, 2, 3, 4, 5, 6, 7].filter((p) => expected.page(p).some((b, i) => b !== expectedSecond.page(p)[i]));
    expect([...second.keys()].sort()).toEqual(changed);
    expect(changed.length).toBeLessThan(8);
  });

  it('smbus transfer: blocks of at most 32 bytes that add up to the same pages; SH1106 column offset', async () => {
    const bus = new FakeI2cBus([0x3c]);
    const display = await createOledDisplay({ ...SETTINGS, transfer: 'smbus', columnOffset: 2 }, { clock: new StepClock(), onFault: () => undefined, openBus: bus.open });
    bus.log.length = 0;
    await display.show(IDLE_SCREEN);
    const expected = renderPage(GATE_FONT, layoutPages(GATE_FONT, IDLE_SCREEN)[0]!);
    const pages = new Map<number, number[]>();
    let page = -1;
    for (const op of bus.log) {
      if (op.op !== 'writeI2cBlock') throw new Error(`unexpected ${op.op}`);
      expect(op.bytes.length).toBeLessThanOrEqual(32);
      if (op.command === 0x00) {
        expect(op.bytes.slice(1)).toEqual([0x02, 0x10]);
        page = op.bytes[0]! & 0x0f;
      } else pages.set(page, [...(pages.get(page) ?? []), ...op.bytes]);
    }
    expect(pages.size).toBeGreaterThan(0);
    for (const [p, bytes] of pages) expect(bytes).toEqual([...expected.page(p)]);
  });

  it('turns the pages of a long screen every pageMs until the next screen', async () => {
    const bus = new FakeI2cBus([0x3c]);
    const clock = new StepClock();
    const display = await createOledDisplay(SETTINGS, { clock, onFault: () => undefined, openBus: bus.open });
    const [one, two] = layoutPages(GATE_FONT, refusalScreen('deny-listed')).map((p) => renderPage(GATE_FONT, p));
    await display.show(refusalScreen('deny-listed'));
    for (const page of [two!, one!]) {
      bus.log.length = 0;
      await clock.advance(3000);
      const written = pagesWritten(bus.log);
      expect(written.size).toBeGreaterThan(0);
      for (const [p, bytes] of written) expect(bytes).toEqual([...page.page(p)]);
    }
    await display.show(IDLE_SCREEN);
    bus.log.length = 0;
    await clock.advance(30_000);
    expect(bus.log).toEqual([]);
    expect(clock.pending()).toBe(0);
  });

  it('says what to check when the panel does not answer, and starts it again after a failed frame', async () => {
    const absent = new FakeI2cBus([]);
    await expect(createOledDisplay(SETTINGS, { clock: new StepClock(), onFault: () => undefined, openBus: absent.open })).rejects.toThrow(/display at 0x3c on i2c-1: no answer \(EREMOTEIO\).*i2cdetect -y 1/);
    expect(absent.log.at(-1)).toEqual({ op: 'close' });

    const bus = new FakeI2cBus([0x3c]);
    const display = await createOledDisplay(SETTINGS, { clock: new StepClock(), onFault: () => undefined, openBus: bus.open });
    bus.failAfter = 0;
    await expect(display.show(IDLE_SCREEN)).rejects.toThrow(/no answer/);
    bus.failAfter = undefined;
    bus.log.length = 0;
    await display.show(IDLE_SCREEN);
    expect(bus.log[0]).toEqual({ op: 'i2cWrite', address: 0x3c, bytes: [0x00, ...initSequence(false)] });
  });

  it('names the missing device node and the group', async () => {
    const enoent = async () => {
      throw Object.assign(new Error('ENOENT, No such file or directory'), { code: 'ENOENT' });
    };
    await expect(createOledDisplay(SETTINGS, { clock: new StepClock(), onFault: () => undefined, openBus: enoent })).rejects.toThrow(/no \/dev\/i2c-1: enable I2C \(dtparam=i2c_arm=on/);
  });
});
