import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tonePattern } from '../hal/gpio/indicators.js';
import { TestIssuer } from '../sim/issuer.js';
import { gateSettingsSchema, InputError, parseWith } from '../src/app/settingsSchema.js';
import type { AccessibilitySettings } from '../src/core/settings.js';
import { gateFixture, nowSec, type GateFixture } from './gateFixture.js';

const GATE = { id: 'ACC-1', site: 'site-a', mode: 'metro-entry' };

function parse(accessibility: unknown) {
  return parseWith(gateSettingsSchema, { ...GATE, accessibility }, 'config.json');
}

function parseError(accessibility: unknown): string {
  try {
    parse(accessibility);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('parsed');
}

describe('gate.accessibility in the config', () => {
  it('defaults every switch to off, and is absent when not written', () => {
    expect(parseWith(gateSettingsSchema, GATE, 'config.json').accessibility).toBeUndefined();
    expect(parse({})).toMatchObject({ accessibility: { wideLane: false, openTimeoutMs: undefined, largeText: false, clearTones: false } });
    expect(parse({ wideLane: true, openTimeoutMs: 25_000, largeText: true, clearTones: true }).accessibility).toEqual({ wideLane: true, openTimeoutMs: 25_000, largeText: true, clearTones: true });
  });

  it('names the field, the value and what is allowed', () => {
    expect(parseError({ wideLane: 'yes' })).toMatch(/^config\.json: accessibility\.wideLane: .*boolean.*\(got "yes"\)$/);
    expect(parseError({ wideLane: true, openTimeoutMs: 100 })).toMatch(/^config\.json: accessibility\.openTimeoutMs: .*>=500.*\(got 100\)$/);
    expect(parseError({ openTimeoutMs: 20_000 })).toBe(
      'config.json: accessibility.openTimeoutMs: is the wide lane\'s open time: set wideLane: true, or leave it out and set gate.openTimeoutMs (got 20000)',
    );
    expect(parseError({ bigText: true })).toMatch(/^config\.json: accessibility(\.\(top level\))?: Unrecognized key: "bigText"/);
  });
});

describe('the gate with accessibility settings', () => {
  const issuer = new TestIssuer('cq.yukuaima', 'ES256');
  const fixtures: GateFixture[] = [];
  afterEach(() => {
    for (const f of fixtures.splice(0)) f.dispose();
  });

  async function lane(accessibility?: Partial<AccessibilitySettings>): Promise<GateFixture> {
    const settings = accessibility ? { wideLane: false, openTimeoutMs: undefined, largeText: false, clearTones: false, ...accessibility } : undefined;
    const f = await gateFixture({ openTimeoutMs: 8_000, accessibility: settings }, { dir: mkdtempSync(join(tmpdir(), 'citygate-access-')), issuer });
    fixtures.push(f);
    return f;
  }

  /** Ms from acceptance until the barrier closes by itself, nobody passing. */
  async function openFor(f: GateFixture): Promise<number> {
    await f.gate.presentCode(issuer.issuerCode({ sub: `acct-${Math.random()}`, iat: nowSec(f.board) }));
    let waited = 0;
    while (f.board.barrier.state() === 'open') {
      f.board.clock.advance(1_000);
      waited += 1_000;
    }
    return waited;
  }

  it('a wide lane keeps the barrier open twice as long, or as long as the operator set', async () => {
    expect(await openFor(await lane())).toBe(8_000);
    expect(await openFor(await lane({ wideLane: true }))).toBe(16_000);
    expect(await openFor(await lane({ wideLane: true, openTimeoutMs: 30_000 }))).toBe(30_000);
  });

  it('large text on every screen: idle, accepted, refused', async () => {
    const f = await lane({ largeText: true });
    expect(f.board.display.style).toEqual({ large: true });
    await f.gate.presentCode(issuer.issuerCode({ sub: 'acct-1', iat: nowSec(f.board) }));
    expect(f.board.display.lines[0]!.en).toBe('Please pass');
    expect(f.board.display.style).toEqual({ large: true });
    await f.gate.presentCode('not a code');
    expect(f.board.display.lines[0]!.en).toBe('Refused');
    expect(f.board.display.style).toEqual({ large: true });

    const plain = await lane();
    await plain.gate.presentCode(issuer.issuerCode({ sub: 'acct-2', iat: nowSec(plain.board) }));
    expect(plain.board.display.style).toEqual({});
  });

  it('clear tones: the long tone on acceptance instead of the short click; refusal keeps its three beeps', async () => {
    const f = await lane({ clearTones: true });
    await f.gate.presentCode(issuer.issuerCode({ sub: 'acct-1', iat: nowSec(f.board) }));
    await f.gate.presentCode('not a code');
    expect(f.board.indicators.tones).toEqual(['attention', 'refuse']);
    expect(tonePattern('attention', 5_000)).toEqual([600]);
    expect(tonePattern('refuse', 5_000)).toHaveLength(3);

    const plain = await lane();
    await plain.gate.presentCode(issuer.issuerCode({ sub: 'acct-2', iat: nowSec(plain.board) }));
    expect(plain.board.indicators.tones).toEqual(['accept']);
  });
});
