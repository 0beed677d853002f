import { afterEach, describe, expect, it } from 'vitest';
import { accessSchema } from '../src/app/rules/accessSchema.js';
import { gateSettingsSchema, parseWith } from '../src/app/settingsSchema.js';
import type { Credential } from '../src/core/credentials/credential.js';
import { Decider, type Decision } from '../src/core/decider.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import { AccessRules, type AccessSettings } from '../src/core/policy/accessRules.js';
import { ReplayGuard } from '../src/core/replayGuard.js';
import type { GateSettings } from '../src/core/settings.js';
import { TestHolder, TestIssuer, type ClaimSet } from '../sim/issuer.js';
import { UidCard } from '../sim/uidCard.js';
import { VirtualCard } from '../sim/virtualCard.js';
import { gateSettings, refusalFrom, trustOf } from './fixtures.js';
import { gateFixture, nowSec, START_SEC, type GateFixture } from './gateFixture.js';

/*
 * Access control: the allow-list (subjects and UID cards), weekly schedules in
 * the gate's time zone, visitors by issuer-signed code for this site, and UID
 * cards through the decider and the gate.
 */

const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const other = new TestIssuer('sc.tianfu', 'ES256');
const SITE = 'cq-hospital-3';
const UID = '04A1B2C3D4E5F6';

/** Local wall time at the gate (Asia/Shanghai, UTC+8) as epoch ms. */
const local = (isoLocal: string): number => Date.parse(`${isoLocal}+08:00`);
// 2026-11-23 is a Monday.
const MONDAY = '2026-11-23';

const access = (overrides: Record<string, unknown> = {}): AccessSettings =>
  accessSchema.parse({
    schedules: { office: [{ days: [1, 2, 3, 4, 5], from: '07:00', until: '19:00' }], night: [{ days: [7], from: '22:00', until: '24:00' }, { days: [1], from: '00:00', until: '06:00' }] },
    allow: [
      { issuer: issuer.id, subject: 'nurse-1', schedule: 'office' },
      { issuer: issuer.id, subject: 'doctor-1' },
      { issuer: issuer.id, subject: 'porter-1', schedule: 'night' },
      { uid: UID.toLowerCase(), schedule: 'office' },
    ],
    visitorIssuers: [issuer.id],
    uidCards: true,
    ...overrides,
  });

function decider(settings: Partial<GateSettings> = {}): Decider {
  return new Decider(trustOf([issuer, other]), gateSettings({ site: SITE, mode: 'access', access: access(), ...settings }), new MemoryDenyList(), new ReplayGuard());
}

function code(sub: string, atMs: number, claims: Partial<ClaimSet> = {}, by = issuer): string {
  return by.issuerCode({ sub, iat: Math.floor(atMs / 1000), ...claims });
}

function decide(d: Decider, text: string, atMs: number): Decision {
  return d.decideCode(text, { nowMs: atMs, clockTrusted: true });
}

function expectRefused(decision: Decision, reason: string): void {
  expect(decision.result === 'refused' ? decision.reason : `accepted`).toBe(reason);
}

describe('allow-list', () => {
  it('admits a listed subject without a schedule at any time, one passage, no fare', () => {
    const d = decider({ fares: { default: 200, byCategory: {} } });
    for (const at of [`${MONDAY}T03:00:00`, '2026-11-28T23:59:00']) {
      const decision = decide(d, code('doctor-1', local(at)), local(at));
      expect(decision).toMatchObject({ result: 'accepted', fare: undefined, passages: 1 });
    }
  });

  it('refuses a subject not on the list as not-allowed, naming the holder', () => {
    const at = local(`${MONDAY}T10:00:00`);
    const decision = decide(decider(), code('stranger', at), at);
    expect(decision).toMatchObject({ result: 'refused', reason: 'not-allowed', identity: { issuer: issuer.id, subject: 'stranger' } });
  });

  it('keys entries by issuer and subject: the same subject from another issuer is not on the list', () => {
    const at = local(`${MONDAY}T10:00:00`);
    expectRefused(decide(decider(), code('doctor-1', at, {}, other), at), 'not-allowed');
  });

  it('admits a listed CG card, and no unlisted one however valid', async () => {
    const at = local(`${MONDAY}T17:00:00`);
    const f = await gateFixture({ site: SITE, mode: 'access', access: access() });
    try {
      f.board.clock.advance(at - f.board.clock.now());
      f.board.reader.present(VirtualCard.issue(f.issuer, 'doctor-1', { iat: START_SEC - 86_400, category: 'adult' }));
      await f.gate.settled();
      f.board.passage.pass();
      f.board.reader.present(VirtualCard.issue(f.issuer, 'visitor-card', { iat: START_SEC - 86_400, product: { site: SITE } }));
      await f.gate.settled();
      expect(f.journal.taps().map((t) => [t.kind, t.subject, t.reason])).toEqual([
        ['card', 'doctor-1', 'ok'],
        ['card', 'visitor-card', 'not-allowed'],
      ]);
      expect(f.decider.modeRules().live()).toEqual({ allowListed: 4 });
    } finally {
      f.dispose();
    }
  });
});

describe('schedules, in the gate time zone', () => {
  const cases: [string, string, 'ok' | 'outside-schedule'][] = [
    ['Monday 06:59', `${MONDAY}T06:59:59`, 'outside-schedule'],
    ['Monday 07:00', `${MONDAY}T07:00:00`, 'ok'],
    ['Monday 18:59', `${MONDAY}T18:59:59`, 'ok'],
    ['Monday 19:00 (until is exclusive)', `${MONDAY}T19:00:00`, 'outside-schedule'],
    ['Friday 12:00', '2026-11-27T12:00:00', 'ok'],
    ['Saturday 12:00', '2026-11-28T12:00:00', 'outside-schedule'],
    ['Sunday 12:00', '2026-11-29T12:00:00', 'outside-schedule'],
  ];
  it.each(cases)('nurse on the office schedule, %s: %s', (_name, at, expected) => {
    const decision = decide(decider(), code('nurse-1', local(at)), local(at));
    expect(decision.result === 'accepted' ? 'ok' : decision.reason).toBe(expected);
  });

  it('reads the schedule in the gate time zone, not UTC', () => {
    // 08:00 in Shanghai is 00:00 UTC and 01:00 in Berlin.
    const at = local(`${MONDAY}T08:00:00`);
    expect(decide(decider(), code('nurse-1', at), at).result).toBe('accepted');
    expectRefused(decide(decider({ timezone: 'Europe/Berlin' }), code('nurse-1', at), at), 'outside-schedule');
  });

  it.each([
    ['Sunday 21:59', '2026-11-29T21:59:00', 'outside-schedule'],
    ['Sunday 22:00', '2026-11-29T22:00:00', 'ok'],
    ['Sunday 23:59', '2026-11-29T23:59:59', 'ok'],
    ['Monday 00:00', '2026-11-30T00:00:00', 'ok'],
    ['Monday 05:59', '2026-11-30T05:59:00', 'ok'],
    ['Monday 06:00', '2026-11-30T06:00:00', 'outside-schedule'],
    ['Tuesday 00:30', '2026-12-01T00:30:00', 'outside-schedule'],
  ])('a night shift over midnight as two ranges, %s', (_name, at, expected) => {
    const decision = decide(decider(), code('porter-1', local(at)), local(at));
    expect(decision.result === 'accepted' ? 'ok' : decision.reason).toBe(expected);
  });

  it('names the schedule and the local time in the detail, for the technician', () => {
    const at = local('2026-11-28T12:00:00');
    const decision = decide(decider(), code('nurse-1', at), at);
    expect(decision).toMatchObject({ result: 'refused', reason: 'outside-schedule', identity: { subject: 'nurse-1' } });
    if (decision.result === 'refused') expect(decision.detail).toContain('schedule office');
  });
});

describe('visitors by issuer-signed code', () => {
  const at = local(`${MONDAY}T18:00:00`);
  const slot = { site: SITE, from: Math.floor(local(`${MONDAY}T17:00:00`) / 1000), until: Math.floor(local(`${MONDAY}T19:00:00`) / 1000) };

  it('admits a visitor code for this site from a visitor issuer, once, with Visitor on the screen', async () => {
    const f = await gateFixture({ site: SITE, mode: 'access', access: access() });
    try {
      f.board.clock.advance(at - f.board.clock.now());
      const text = f.issuer.issuerCode({ sub: 'visitor-77', iat: nowSec(f.board), product: slot });
      expect(f.decider.decideCode(text, { nowMs: at, clockTrusted: true })).toMatchObject({ result: 'accepted', passages: 1, note: [{ zh: '访客', en: 'Visitor' }] });
      await f.gate.presentCode(text);
      f.board.passage.pass();
      f.board.clock.advance(10_000);
      await f.gate.presentCode(text);
      expect(f.journal.taps().map((t) => [t.subject, t.reason])).toEqual([
        ['visitor-77', 'ok'],
        ['visitor-77', 'replayed'],
      ]);
    } finally {
      f.dispose();
    }
  });

  it('refuses a visitor outside the window of the code, showing the slot', () => {
    const early = local(`${MONDAY}T16:30:00`);
    const decision = decide(decider(), code('visitor-77', early, { product: slot }), early);
    expect(decision).toMatchObject({ result: 'refused', reason: 'outside-window', note: [{ zh: '入场时段 17:00–19:00', en: 'Entry 17:00–19:00' }] });
  });

  it.each([
    ['a code for another site', () => decide(decider({ site: undefined }), code('v', at, { product: { ...slot, site: 'cq-school-1' } }), at), 'not-allowed'],
    ['a code for another site at a gate with a site', () => decide(decider(), code('v', at, { product: { ...slot, site: 'cq-school-1' } }), at), 'wrong-site'],
    ['a code without a product', () => decide(decider(), code('v', at), at), 'not-allowed'],
    ['a code without a site in its product', () => decide(decider(), code('v', at, { product: { from: slot.from, until: slot.until } }), at), 'not-allowed'],
    ['a code from an issuer not named a visitor issuer', () => decide(decider(), code('v', at, { product: slot }, other), at), 'not-allowed'],
    [
      'a holder-bound offline code naming this site',
      () => decide(decider(), TestHolder.enrol(issuer, { sub: 'v', iat: Math.floor(at / 1000) - 3600, product: slot }).offlineCode(Math.floor(at / 1000)), at),
      'not-allowed',
    ],
  ])('refuses %s', (_what, decision, reason) => {
    expectRefused(decision(), reason);
  });

  it('admits nobody as a visitor where no visitor issuer is set', () => {
    expectRefused(decide(decider({ access: access({ visitorIssuers: [] }) }), code('v', at, { product: slot }), at), 'not-allowed');
  });
});

describe('UID cards through the gate', () => {
  let f: GateFixture | undefined;
  afterEach(() => {
    f?.dispose();
    f = undefined;
  });

  async function presentUid(settings: Partial<GateSettings>, uid: string, atLocal = `${MONDAY}T17:00:00`) {
    f = await gateFixture({ site: SITE, ...settings });
    f.board.clock.advance(local(atLocal) - f.board.clock.now());
    f.board.reader.present(new UidCard(uid));
    await f.gate.settled();
    return f.journal.taps().at(-1)!;
  }

  it('admits an allow-listed UID within its schedule: a uid tap, staff, barrier open', async () => {
    const tap = await presentUid({ mode: 'access', access: access() }, UID);
    expect(tap).toMatchObject({ kind: 'uid', issuer: 'uid', subject: UID, category: 'staff', result: 'accepted', reason: 'ok', fare: null, product: null });
    expect(f!.board.barrier.state()).toBe('open');
  });

  it('refuses it outside its schedule, and an unknown UID as not-allowed, both journaled as uid taps', async () => {
    expect(await presentUid({ mode: 'access', access: access() }, UID, '2026-11-28T10:00:00')).toMatchObject({ kind: 'uid', subject: UID, result: 'refused', reason: 'outside-schedule' });
    f!.dispose();
    expect(await presentUid({ mode: 'access', access: access() }, '04112233')).toMatchObject({ kind: 'uid', issuer: 'uid', subject: '04112233', reason: 'not-allowed' });
    expect(f!.board.barrier.actions.map((a) => a.action)).toEqual(['close']);
  });

  it('does not read UIDs where access.uidCards is off, or in another mode', async () => {
    expect(await presentUid({ mode: 'access', access: access({ uidCards: false, allow: [] }) }, UID)).toMatchObject({ kind: 'card', subject: null, reason: 'card-not-supported' });
    f!.dispose();
    expect(await presentUid({ mode: 'venue', access: access() }, UID)).toMatchObject({ kind: 'card', subject: null, reason: 'card-not-supported' });
  });

  it('refuses a deny-listed UID even when it is on the allow-list', async () => {
    f = await gateFixture({ site: SITE, mode: 'access', access: access() });
    f.denyList.add('uid', UID);
    f.board.clock.advance(local(`${MONDAY}T17:00:00`) - f.board.clock.now());
    f.board.reader.present(new UidCard(UID));
    await f.gate.settled();
    expect(f.journal.taps()[0]).toMatchObject({ kind: 'uid', subject: UID, reason: 'deny-listed' });
  });

  it('refuses a UID card where staff may not pass', async () => {
    expect(await presentUid({ mode: 'access', access: access(), categories: ['adult'] }, UID)).toMatchObject({ kind: 'uid', reason: 'category-not-allowed' });
  });
});

describe('a large allow-list', () => {
  it('finds every one of 50 000 entries, and nobody else, from a config the schema read', () => {
    const entries = Array.from({ length: 50_000 }, (_, i) => (i % 2 === 0 ? { issuer: issuer.id, subject: `staff-${i}` } : { uid: (0x04000000 + i).toString(16).padStart(8, '0') }));
    const settings = access({ allow: entries, schedules: {} });
    const rules = new AccessRules(gateSettings({ site: SITE, mode: 'access' }), settings);
    const credential = (iss: string, subject: string, kind: Credential['kind'] = 'code'): Credential => ({ kind, profile: 'issuer', issuer: iss, subject, category: 'staff', product: undefined, cti: undefined, replay: undefined });
    const now = local(`${MONDAY}T10:00:00`);
    for (const i of [0, 24_998, 49_998]) expect(rules.admit(credential(issuer.id, `staff-${i}`), now).passages).toBe(1);
    for (const i of [1, 25_001, 49_999]) expect(rules.admit(credential('uid', (0x04000000 + i).toString(16).toUpperCase().padStart(8, '0'), 'uid'), now).passages).toBe(1);
    expect(refusalFrom(() => rules.admit(credential(issuer.id, 'staff-1'), now)).reason).toBe('not-allowed');
    expect(refusalFrom(() => rules.admit(credential('uid', '04000000'), now)).reason).toBe('not-allowed');
    expect(rules.live()).toEqual({ allowListed: 50_000 });
  });
});

describe('access config', () => {
  const gate = (accessSection: unknown, mode = 'access') => ({ id: 'G1', site: SITE, mode, ...(accessSection === undefined ? {} : { access: accessSection }) });
  const errorOf = (input: unknown): string => {
    try {
      parseWith(gateSettingsSchema, input, 'gate.json');
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected the config to be refused');
  };

  it('reads a full section into settings: UIDs upper case under issuer uid, times in minutes', () => {
    const settings = parseWith(
      gateSettingsSchema,
      gate({ schedules: { office: [{ days: [1, 5], from: '07:30', until: '24:00' }] }, allow: [{ uid: '04a1b2c3', schedule: 'office' }, { issuer: 'cq.yukuaima', subject: 'n-1' }], visitorIssuers: ['cq.yukuaima'], uidCards: true }),
      'gate.json',
    );
    expect(settings.access).toEqual({
      schedules: { office: [{ days: [1, 5], from: 450, until: 1440 }] },
      allow: [{ issuer: 'uid', subject: '04A1B2C3', schedule: 'office' }, { issuer: 'cq.yukuaima', subject: 'n-1' }],
      visitorIssuers: ['cq.yukuaima'],
      uidCards: true,
    });
  });

  it('requires an access section in mode access, and not in other modes', () => {
    expect(errorOf(gate(undefined))).toMatch(/^gate\.json: access: mode access needs an access section/);
    expect(parseWith(gateSettingsSchema, gate(undefined, 'venue'), 'gate.json').access).toBeUndefined();
  });

  it.each([
    ['a weekday 0', { schedules: { office: [{ days: [0], from: '07:00', until: '19:00' }] } }, 'access.schedules.office.0.days.0: a weekday number: 1 (Monday) ... 7 (Sunday) (got 0)'],
    ['a weekday 8', { schedules: { office: [{ days: [1, 8], from: '07:00', until: '19:00' }] } }, 'access.schedules.office.0.days.1: a weekday number: 1 (Monday) ... 7 (Sunday) (got 8)'],
    ['a time 7:00', { schedules: { office: [{ days: [1], from: '7:00', until: '19:00' }] } }, 'access.schedules.office.0.from: a local time HH:MM, 00:00 ... 23:59 (got "7:00")'],
    ['a time 25:00', { schedules: { office: [{ days: [1], from: '07:00', until: '25:00' }] } }, 'access.schedules.office.0.until: a local time HH:MM, 00:01 ... 24:00 (got "25:00")'],
    ['a range ending before it starts', { schedules: { night: [{ days: [1], from: '22:00', until: '06:00' }] } }, 'access.schedules.night.0.until: must be later than from (22:00); a range over midnight is two ranges'],
    ['an unknown schedule', { schedules: { office: [{ days: [1], from: '07:00', until: '19:00' }] }, allow: [{ issuer: 'i', subject: 's', schedule: 'ofice' }] }, 'access.allow.0.schedule: names no schedule (one of office) (got "ofice")'],
    ['a UID of 6 digits', { allow: [{ uid: '04A1B2' }], uidCards: true }, 'access.allow.0.uid: a card UID in hex: 8, 14 or 20 digits (4, 7 or 10 bytes) (got "04A1B2")'],
    ['a UID that is not hex', { allow: [{ uid: '04A1B2XZ' }], uidCards: true }, 'access.allow.0.uid: a card UID in hex: 8, 14 or 20 digits (4, 7 or 10 bytes) (got "04A1B2XZ")'],
    ['a UID entry without uidCards', { allow: [{ uid: '04A1B2C3' }] }, 'access.allow.0.uid: UID entries need access.uidCards: true'],
    ['an entry with both uid and subject', { allow: [{ uid: '04A1B2C3', issuer: 'i', subject: 's' }], uidCards: true }, 'access.allow.0.uid: an entry is either {uid} or {issuer, subject}, not both'],
    ['an entry without its issuer', { allow: [{ subject: 's' }] }, 'access.allow.0.issuer: an entry is either {uid} or {issuer, subject}: both issuer and subject are needed'],
    ['the same holder twice', { allow: [{ issuer: 'i', subject: 's' }, { issuer: 'i', subject: 's', schedule: 'x' }], schedules: { x: [{ days: [1], from: '00:00', until: '01:00' }] } }, 'access.allow.1: lists the same holder as allow.0'],
    ['an unknown key', { allowList: [] }, 'access: Unrecognized key: "allowList"'],
  ])('names the field, the value and what is allowed for %s', (_what, section, message) => {
    expect(errorOf(gate(section))).toContain(`gate.json: ${message}`);
  });
});
