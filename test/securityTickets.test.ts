import { afterEach, describe, expect, it } from 'vitest';
import { accessSchema } from '../src/app/rules/accessSchema.js';
import { decodeBase45 } from '../src/core/credentials/base45.js';
import { CodeVerifier } from '../src/core/credentials/codeVerifier.js';
import { Decider, type Decision } from '../src/core/decider.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import { ReplayGuard } from '../src/core/replayGuard.js';
import { codeText, TestHolder, TestIssuer } from '../sim/issuer.js';
import { VirtualCard } from '../sim/virtualCard.js';
import { assembleSign1, gateSettings, NOW, NOW_MS, sign1Parts, trustOf } from './fixtures.js';
import { gateFixture, nowSec, type GateFixture } from './gateFixture.js';

/*
 * Security issue 17, finding 6: a ticket inside holder-bound offline codes is
 * used up like the ticket it is (bound to its issuer and cti), however many
 * fresh codes the phone makes; and the replay key of an offline code is
 * nothing anyone but the phone can compute before the code is shown.
 */

const SITE = 'cq-ciqikou';
const TIME = { skewSec: 30, freshnessSec: 60 };

let fixture: GateFixture | undefined;
afterEach(() => {
  fixture?.dispose();
  fixture = undefined;
});

describe('a ticket on a CG card', () => {
  it('a 2-entry ticket on a card admits 2 passages (the venue lets both through on the first tap), then entries-used, also after a restart', async () => {
    const f = (fixture = await gateFixture({ site: SITE, mode: 'venue', fares: undefined }));
    const card = VirtualCard.issue(f.issuer, 'C-TICKET', { iat: nowSec(f.board) - 3600, product: { site: SITE, entries: 2 } });
    for (let i = 0; i < 3; i++) {
      f.board.reader.present(card);
      await f.gate.settled();
      for (let p = 0; p < 2; p++) f.board.passage.pass();
      f.board.clock.advance(10_000);
    }
    expect(f.journal.taps().map((t) => t.reason)).toEqual(['ok', 'entries-used', 'entries-used']);
    const again = (fixture = await f.restart());
    again.board.reader.present(card);
    await again.gate.settled();
    expect(again.journal.taps().at(-1)).toMatchObject({ result: 'refused', reason: 'entries-used', subject: 'C-TICKET' });
  });
});

describe('a ticket in holder-bound offline codes', () => {
  it('a 5-entry ticket admits 5 passages in total across many fresh codes, also after a restart', async () => {
    const f = (fixture = await gateFixture({ site: SITE, mode: 'venue', fares: undefined }));
    const phone = TestHolder.enrol(f.issuer, { sub: 'family-1', iat: nowSec(f.board) - 3600, product: { site: SITE, entries: 5 } });
    let passages = 0;
    for (let i = 0; i < 6; i++) {
      const decision = f.decider.decideCode(phone.offlineCode(nowSec(f.board)), { nowMs: f.board.clock.now(), clockTrusted: true });
      await f.gate.presentCode(phone.offlineCode(nowSec(f.board)));
      if (decision.result === 'accepted') passages += decision.passages;
      for (let p = 0; p < 5; p++) f.board.passage.pass();
      f.board.clock.advance(10_000);
    }
    const taps = f.journal.taps();
    expect(taps.map((t) => t.reason)).toEqual(['ok', 'entries-used', 'entries-used', 'entries-used', 'entries-used', 'entries-used']);
    expect(taps.filter((t) => t.result === 'accepted').reduce((sum, t) => sum + (t.product?.entries ?? 1), 0)).toBe(5);
    expect(passages).toBe(5);

    const again = (fixture = await f.restart());
    await again.gate.presentCode(phone.offlineCode(nowSec(again.board)));
    expect(again.journal.taps().at(-1)).toMatchObject({ result: 'refused', reason: 'entries-used', subject: 'family-1' });
  });

  it('counts entries one passage at a time where a gate grants one (access), here and once its keys are reloaded (a restart; a gate of the site learns them the same way)', () => {
    const issuer = new TestIssuer('cq.hospital', 'ES256');
    const settings = gateSettings({
      site: SITE,
      mode: 'access',
      access: accessSchema.parse({ schedules: {}, allow: [{ issuer: issuer.id, subject: 'doctor-1' }] }),
    });
    const guard = new ReplayGuard();
    const decider = new Decider(trustOf([issuer]), settings, new MemoryDenyList(), guard);
    const phone = TestHolder.enrol(issuer, { sub: 'doctor-1', iat: NOW - 3600, product: { entries: 5 } });
    const recorded: { key: string; until: number }[] = [];
    /** What the gate does with an accepted decision: journal its key and remember it. */
    const tap = (d: Decider, g: ReplayGuard, atMs: number): Decision => {
      const decision = d.decideCode(phone.offlineCode(Math.floor(atMs / 1000)), { nowMs: atMs, clockTrusted: true });
      if (decision.result === 'accepted' && decision.credential.replay) {
        recorded.push(decision.credential.replay);
        g.remember(decision.credential.replay.key, decision.credential.replay.until, atMs);
      }
      return decision;
    };
    let passages = 0;
    for (let i = 0; i < 3; i++) {
      const decision = tap(decider, guard, NOW_MS + i * 5_000);
      expect(decision.result).toBe('accepted');
      if (decision.result === 'accepted') passages += decision.passages;
    }
    // A restart: the guard is rebuilt from the journal's keys; and another gate of the site learns them.
    const restarted = new ReplayGuard();
    for (const used of recorded) restarted.remember(used.key, used.until, NOW_MS + 20_000);
    const afterRestart = new Decider(trustOf([issuer]), settings, new MemoryDenyList(), restarted);
    for (let i = 0; i < 3; i++) {
      const decision = tap(afterRestart, restarted, NOW_MS + 30_000 + i * 5_000);
      if (decision.result === 'accepted') passages += decision.passages;
      else expect(decision).toMatchObject({ reason: 'entries-used', detail: 'all 5 entries of the ticket are used' });
    }
    expect(passages).toBe(5);
  });

  it('a pass (a product without entries) stays a pass: fresh codes are admitted again and again', () => {
    const issuer = new TestIssuer('cq.yukuaima', 'ES256');
    const decider = new Decider(trustOf([issuer]), gateSettings({ site: SITE, mode: 'venue' }), new MemoryDenyList(), new ReplayGuard());
    const phone = TestHolder.enrol(issuer, { sub: 'annual-1', iat: NOW - 3600, product: { site: SITE, from: NOW - 86_400, until: NOW + 86_400 * 300 } });
    for (let i = 0; i < 3; i++) {
      const decision = decider.decideCode(phone.offlineCode(NOW + i), { nowMs: NOW_MS + i * 1000, clockTrusted: true });
      expect(decision.result).toBe('accepted');
    }
  });
});

describe('the replay key of an offline code', () => {
  const issuer = new TestIssuer('cq.yukuaima', 'ES256');
  const verifier = new CodeVerifier(trustOf([issuer]));
  const keyOf = (text: string): string => verifier.verify(text, { nowMs: NOW_MS, ...TIME }).replay!.key;

  it('is not computable from holder, iat and counter: two codes with the same ones have different keys, naming none of them', () => {
    const phone = TestHolder.enrol(issuer, { sub: 'holder-1', iat: NOW - 3600 });
    const first = keyOf(phone.offlineCode(NOW, { counter: 7 }));
    const second = keyOf(phone.offlineCode(NOW, { counter: 7 }));
    expect(first).not.toBe(second);
    for (const key of [first, second]) {
      expect(key).toMatch(/^code:[A-Za-z0-9_-]{43}$/);
      expect(key).not.toContain('holder-1');
      expect(key).not.toContain(String(NOW));
    }
  });

  it('a key published in advance from holder, iat and counter burns nothing; the code itself is single use', () => {
    const guard = new ReplayGuard();
    const decider = new Decider(trustOf([issuer]), gateSettings({ site: SITE }), new MemoryDenyList(), guard);
    for (const key of [`holder:${issuer.id}:holder-2:${NOW}:0`, `holder:${issuer.id}:holder-2:${NOW}:1`]) guard.remember(key, NOW_MS + 600_000, NOW_MS);
    const phone = TestHolder.enrol(issuer, { sub: 'holder-2', iat: NOW - 3600 });
    const text = phone.offlineCode(NOW, { counter: 0 });
    const decision = decider.decideCode(text, { nowMs: NOW_MS, clockTrusted: true });
    expect(decision.result).toBe('accepted');
    if (decision.result !== 'accepted') return;
    guard.remember(decision.credential.replay!.key, decision.credential.replay!.until, NOW_MS);
    expect(decider.decideCode(text, { nowMs: NOW_MS + 5_000, clockTrusted: true })).toMatchObject({ result: 'refused', reason: 'replayed' });
  });

  it('is the same for the twin signature anyone can derive from a shown ES256 code (r, n - s)', () => {
    const phone = TestHolder.enrol(issuer, { sub: 'holder-3', iat: NOW - 3600 });
    const text = phone.offlineCode(NOW);
    const [protectedBytes, unprotected, payload, signature] = sign1Parts(decodeBase45(text.slice(4)));
    const n = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
    const s = BigInt(`0x${Buffer.from(signature.subarray(32)).toString('hex')}`);
    const twin = Buffer.concat([signature.subarray(0, 32), Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex')]);
    const twinText = codeText(assembleSign1([protectedBytes, unprotected, payload, twin]));
    expect(twinText).not.toBe(text);
    expect(keyOf(twinText)).toBe(keyOf(text));
  });
});
