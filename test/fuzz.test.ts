import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeBase45, encodeBase45 } from '../src/core/credentials/base45.js';
import type { Decision } from '../src/core/decider.js';
import { CODE_SEEDS } from '../faults/fuzz/codeSeeds.js';
import { codeTarget } from '../faults/fuzz/codeTarget.js';
import type { FuzzFigures, TargetFigures } from '../faults/fuzz/figures.js';
import { DENY_SEEDS } from '../faults/fuzz/fleetSeeds.js';
import { denyListTarget } from '../faults/fuzz/fleetTargets.js';
import { runFuzz, runInput } from '../faults/fuzz/runner.js';
import { CI_FUZZ } from '../faults/fuzz/sizes.js';
import { fuzzSummary } from '../faults/fuzz/summary.js';
import { accepted, refused, type FuzzTarget } from '../faults/fuzz/target.js';

/*
 * Issue 7, item 5: property-based and mutation fuzzing of every parser at the
 * system's edges, at CI size (the long run is faults/fuzz/longRun.ts). The
 * figures must show every parser run, both accepting and refusing, and nothing
 * crashed, answered against its contract or accepted a forgery; the last part
 * shows that the harness would see it if something did.
 */

const PARSERS = [
  'qr-code',
  'base45',
  'cbor',
  'cose',
  'claims',
  'apdu-card',
  'emv-tlv',
  'transport-code',
  'mqtt-deny-list',
  'mqtt-command',
  'mqtt-trust-update',
  'mqtt-tap-ack',
  'mqtt-site-used',
  'collector-tap-batch',
  'config',
  'config-file',
  'scenario',
  'scenario-file',
  'trust-file',
  'journal-import',
  'nmea',
  'bus-console',
  'scanner-line',
  'camera-png',
  'rtc-registers',
];

describe('fuzzing every parser at the edges (CI size)', () => {
  let figures: FuzzFigures;
  const target = (name: string): TargetFigures => {
    const found = figures.targets.find((t) => t.name === name);
    if (!found) throw new Error(`no figures for ${name}`);
    return found;
  };

  beforeAll(async () => {
    figures = await runFuzz(CI_FUZZ);
    console.log(fuzzSummary(figures));
  }, 180_000);

  it('runs every parser, each input counted once as accepted, refused, crashed or against the contract', () => {
    expect(figures.targets.map((t) => t.name)).toEqual(PARSERS);
    expect(figures.inputs).toBe(CI_FUZZ.totalInputs);
    expect(figures.targets.reduce((sum, t) => sum + t.inputs, 0)).toBe(CI_FUZZ.totalInputs);
    for (const t of figures.targets) {
      expect(t.inputs, t.name).toBeGreaterThan(0);
      expect(t.accepted + t.refused + t.crashes + t.violations, t.name).toBe(t.inputs);
    }
  });

  it('finds no crash, no answer against a parser\'s contract and no forgery', () => {
    expect(figures.crashes).toEqual([]);
    expect(figures.violations).toEqual([]);
    expect(figures.forgeries).toEqual([]);
  });

  it('gets inputs past every parser\'s first checks: each accepts some and refuses some', () => {
    for (const t of figures.targets) {
      expect(t.accepted, `${t.name} accepted nothing`).toBeGreaterThan(0);
      expect(t.refused, `${t.name} refused nothing`).toBeGreaterThan(0);
    }
  });

  it('takes QR codes through every check of the decider', () => {
    const reasons = Object.keys(target('qr-code').reasons);
    for (const reason of ['malformed', 'bad-signature', 'unknown-key', 'unknown-issuer', 'expired', 'not-yet-valid', 'stale', 'replayed', 'deny-listed', 'wrong-site', 'outside-window', 'category-not-allowed']) {
      expect(reasons, reason).toContain(reason);
    }
  });

  it('takes cards through every step of the APDU exchange', () => {
    const reasons = Object.keys(target('apdu-card').reasons);
    for (const reason of ['malformed', 'card-not-supported', 'card-auth-failed', 'card-removed', 'card-timeout', 'unknown-issuer', 'expired', 'deny-listed', 'not-allowed']) {
      expect(reasons, reason).toContain(reason);
    }
  });

  it('reaches the fleet messages\' schemas behind the signature, and refuses bad signatures and unknown keys', () => {
    for (const name of ['mqtt-deny-list', 'mqtt-command', 'mqtt-trust-update']) {
      expect(Object.keys(target(name).reasons).sort(), name).toEqual(expect.arrayContaining(['bad-signature', 'invalid', 'malformed', 'unknown-key']));
    }
  });

  it('refuses bad config and scenario documents naming many different fields', () => {
    for (const name of ['config', 'scenario', 'trust-file', 'collector-tap-batch']) expect(target(name).distinctReasons, name).toBeGreaterThanOrEqual(10);
    expect(Object.keys(target('config').reasons).some((field) => field.startsWith('gate.'))).toBe(true);
  });
});

describe('the fuzz targets read genuine inputs as the gate does', () => {
  it('accepts a genuine code and refuses it with a flipped signature bit', async () => {
    const target = codeTarget();
    const genuine = CODE_SEEDS[0]!;
    expect(await runInput(target, genuine)).toEqual({ kind: 'accepted' });
    const bytes = decodeBase45(genuine.text.slice(4));
    bytes[bytes.length - 1]! ^= 0x01;
    expect(await runInput(target, { text: `CG1:${encodeBase45(bytes)}`, signed: genuine.signed })).toEqual({ kind: 'refused', reason: 'bad-signature' });
  });

  it('accepts the deny-list updates fleet ops signed and refuses the ones it did not', async () => {
    const target = denyListTarget();
    const outcomes = await Promise.all(DENY_SEEDS.map((seed) => runInput(target, seed)));
    expect(outcomes.filter((_, i) => DENY_SEEDS[i]!.signedPayload !== undefined)).toEqual(DENY_SEEDS.filter((s) => s.signedPayload).map(() => ({ kind: 'accepted' })));
    expect(outcomes.filter((_, i) => DENY_SEEDS[i]!.signedPayload === undefined).map((o) => o.kind === 'refused' && o.reason).sort()).toEqual(['bad-signature', 'unknown-key', 'unknown-key']);
  });
});

/** A decider that answers every code the same, to see how the harness reads its answer. */
function fixedDecider(decision: Decision) {
  return { decideCode: (): Decision => decision };
}

const FORGED: Decision = {
  result: 'accepted',
  reason: 'ok',
  credential: { kind: 'code', profile: 'issuer', issuer: 'cq.yukuaima', subject: 'acct-forged', category: 'adult', product: undefined, cti: undefined, replay: undefined },
  fare: undefined,
  passages: 1,
  note: undefined,
};

describe('the harness catches what it is there to catch', () => {
  it('records a parser that throws as a crash, with an input that reproduces it', async () => {
    const buggy: FuzzTarget<number> = {
      name: 'buggy-parser',
      weight: 1,
      arbitrary: fc.nat({ max: 1000 }),
      run: (n) => {
        if (n % 5 === 3) throw new TypeError(`cannot read field ${n}`);
        return n % 2 === 0 ? accepted : refused('odd');
      },
      encode: String,
      decode: Number,
    };
    const figures = await runFuzz({ targets: [buggy], inputsPerTarget: 300, seed: 11 });
    expect(figures.targets[0]!.crashes).toBeGreaterThan(0);
    expect(figures.crashes.length).toBeGreaterThan(0);
    for (const crash of figures.crashes) {
      expect(crash.target).toBe('buggy-parser');
      expect(crash.error).toContain('TypeError: cannot read field');
      expect(await runInput(buggy, buggy.decode(crash.input))).toMatchObject({ kind: 'crash' });
    }
  });

  it('counts the decider\'s catch-all for a bug as a crash, not as a refusal', async () => {
    const catchAll: Decision = { result: 'refused', reason: 'malformed', detail: 'unexpected: TypeError: x is undefined', identity: undefined };
    const figures = await runFuzz({ targets: [codeTarget(fixedDecider(catchAll))], inputsPerTarget: 50, seed: 3 });
    expect(figures.targets[0]!.crashes).toBe(50);
    expect(figures.crashes[0]!.error).toContain('unexpected:');
  });

  it('records a verifier that accepts anything as forging codes', async () => {
    const figures = await runFuzz({ targets: [codeTarget(fixedDecider(FORGED))], inputsPerTarget: 200, seed: 5 });
    expect(figures.targets[0]!.forgeries).toBe(200);
    expect(figures.forgeries[0]!.detail).toContain('acct-forged');
    expect(figures.crashes).toEqual([]);
  });

  it('records a deny-list opener that skips the signature as forging updates', async () => {
    const unchecked = denyListTarget(() => ({ issuer: 'cq.yukuaima', seq: 99, base: 0, add: ['acct-1'], remove: [], issuedAt: 0 }));
    const figures = await runFuzz({ targets: [unchecked], inputsPerTarget: 200, seed: 5 });
    expect(figures.targets[0]!.forgeries).toBeGreaterThan(0);
    expect(figures.forgeries.some((f) => f.detail.includes('"seq":99'))).toBe(true);
  });

  it('gives the same figures for the same seed', async () => {
    const counts = (f: FuzzFigures) => f.targets.map(({ name, inputs, accepted: a, refused: r, reasons, crashes }) => ({ name, inputs, a, r, reasons, crashes }));
    const options = { seed: 99, inputsPerTarget: 150, only: ['qr-code', 'apdu-card', 'mqtt-command', 'config', 'nmea'] };
    expect(counts(await runFuzz(options))).toEqual(counts(await runFuzz(options)));
  });
});
