import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purseKill, type PurseKillMoment } from '../faults/crash/purseKill.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import type { PcscdProcess } from '../sim/pcscdProcess.js';
import { VirtualTunionCard } from '../sim/tunion/virtualTunionCard.js';
import { startPrivatePcscd } from './support/pcscd.js';

/*
 * The real daemon (dist/) on the PC/SC stack, SIGKILLed in the middle of a
 * purse purchase, at the three moments between DEBIT and the commit of its
 * tap; started again; the card presented once more.
 */

const CLI = join(import.meta.dirname, '..', 'dist', 'bin', 'citygate.js');
let pcscd: PcscdProcess;
let root: string;
let trustPath: string;

beforeAll(async () => {
  pcscd = await startPrivatePcscd();
  root = mkdtempSync(join(tmpdir(), 'citygate-purse-kill-'));
  trustPath = join(root, 'trust.json');
  writeFileSync(trustPath, JSON.stringify(trustListOf([new TestIssuer('cq.yukuaima', 'ES256')])));
});

afterAll(async () => {
  await pcscd?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('SIGKILL of the gate between DEBIT and its commit', () => {
  it.each<[PurseKillMoment, boolean]>([
    ['debit-not-reached', false],
    ['debit-unanswered', true],
    ['mac2-check', true],
  ])('killed at %s: a pending tap after the restart, no passage without a row, the card charged once', async (moment, paidBeforeKill) => {
    const card = new VirtualTunionCard({ cardNumber: `3104000000000000${String(['debit-not-reached', 'debit-unanswered', 'mac2-check'].indexOf(moment)).padStart(4, '0')}`, balance: 1_000 });
    const run = await purseKill({ cli: CLI, root: mkdtempSync(join(root, `${moment}-`)), pcscd, trustPath, card, moment });
    const [pending, back, ...rest] = run.taps;
    expect(rest).toEqual([]);
    // What the killed gate had on disk before DEBIT became a pending tap at the restart: no charge without a row.
    expect(pending).toMatchObject({ kind: 'tunion', result: 'refused', reason: 'purchase-pending', purse: { state: 'pending', transaction: { amount: 200 } } });
    // The card back: paid before the kill, it passes on that payment; not paid, it pays now. Once either way.
    expect(back).toMatchObject({ result: 'accepted', fare: 200, purse: { state: paidBeforeKill ? 'completed' : 'debited', settles: { tap: pending!.id, debited: paidBeforeKill } } });
    expect(run.charged).toBe(200);
    expect(run.debits).toBe(1);
    // No passage without a row: the barrier opened once, for the accepted tap.
    expect(run.barrierSeqs).toEqual([back!.seq]);
  }, 90_000);
});
