import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess } from '../faults/daemonProcess.js';
import { personaliseBankCard, type BankCardOptions } from '../sim/emv/bankCardProfile.js';
import { capkEntry, writeCapkFile } from '../sim/emv/capkFile.js';
import { makeCardIssuer, type CardIssuer } from '../sim/emv/cardIssuer.js';
import { publishedTestCard, UNIONPAY_TEST_CAPK } from '../sim/emv/publishedTestCard.js';
import { makeTestCa } from '../sim/emv/testCa.js';
import { VirtualBankCard } from '../sim/emv/virtualBankCard.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import type { PcscdProcess } from '../sim/pcscdProcess.js';
import { VpcdCard, type VpcdInsertion } from '../sim/vpcdCard.js';
import type { ApduResponder } from '../sim/virtualCard.js';
import { Mosquitto } from './support/mosquitto.js';
import { TestCollector } from './support/fleetClient.js';
import { startPrivatePcscd } from './support/pcscd.js';
import { waitFor } from './support/waitFor.js';

/*
 * Bank cards on the real PC/SC stack (pcsclite -> a private pcscd -> vpcd ->
 * sim/emv cards): the technician's `citygate card read`, and a running gate
 * whose journal, log, upload and export must never hold a clear PAN.
 */

const CLI = join(import.meta.dirname, '..', 'dist', 'bin', 'citygate.js');
const PAN_RSA = '6228001111222233';
const PAN_SM2 = '6228004444555566';
const TOKEN_KEY = 'a1'.repeat(32);

let pcscd: PcscdProcess;
let slot: VpcdCard;
let root: string;
let capkPath: string;
let rsaIssuer: CardIssuer;
let sm2Issuer: CardIssuer;

beforeAll(async () => {
  pcscd = await startPrivatePcscd();
  slot = new VpcdCard(pcscd.ports[0]!);
  root = mkdtempSync(join(tmpdir(), 'citygate-bank-pcsc-'));
  const rsaCa = makeTestCa({ algorithm: 'RSA' });
  const sm2Ca = makeTestCa({ algorithm: 'SM2' });
  rsaIssuer = makeCardIssuer(rsaCa);
  sm2Issuer = makeCardIssuer(sm2Ca);
  capkPath = join(root, 'capk.json');
  writeCapkFile(capkPath, [capkEntry(rsaCa), capkEntry(sm2Ca), UNIONPAY_TEST_CAPK]);
});

afterAll(async () => {
  await slot?.remove();
  await pcscd?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

function bankCard(issuer: CardIssuer, options: Partial<BankCardOptions> = {}): VirtualBankCard {
  return new VirtualBankCard(personaliseBankCard(issuer, { pan: issuer === rsaIssuer ? PAN_RSA : PAN_SM2, ...options }));
}

interface CardRead {
  code: number | null;
  report: Record<string, unknown> | undefined;
  stdout: string;
  stderr: string;
}

/** vpcd takes about 44 ms an exchange, and far more on a loaded machine: the 1 s of a lane would make refusals `card-removed`. */
const DEADLINE_MS = '15000';

/** `citygate card read --capk FILE` with `card` on the vpcd reader, as a technician runs it. */
async function cardRead(card: ApduResponder, insertion: VpcdInsertion = {}, extra: string[] = []): Promise<CardRead> {
  const removals = pcscd.cardRemovals;
  await slot.insert(card, insertion);
  try {
    const child = spawn(process.execPath, [CLI, 'card', 'read', '--capk', capkPath, '--wait', '20', '--at', '2027-01-15T08:00:00+08:00', '--deadline', DEADLINE_MS, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    const line = stdout.trim().split('\n').at(-1);
    return { code, report: line ? (JSON.parse(line) as Record<string, unknown>) : undefined, stdout, stderr };
  } finally {
    await slot.remove();
    // The next card must be a new card to pcscd, not this one back (sim/pcscdProcess.ts cardRemovals).
    await waitFor(() => pcscd.cardRemovals > removals, 'pcscd seeing the card leave');
  }
}

describe('citygate card read through pcscd and vpcd', () => {
  it('the public UnionPay test card under the UnionPay test CA key is accepted, with no token key no subject', async () => {
    const run = await cardRead(publishedTestCard());
    expect(run.code, run.stderr).toBe(0);
    expect(run.report).toEqual({ result: 'accepted', reason: 'ok', kind: 'emv', application: 'A000000333010102', issuer: 'emv', subject: null, pan: '622800******1117', expiry: '2030-12-31' });
  });

  it('a genuine SM2 card is accepted', async () => {
    const run = await cardRead(bankCard(sm2Issuer));
    expect(run.code, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ result: 'accepted', kind: 'emv', pan: '622800******5566' });
    expect(run.stdout).not.toContain(PAN_SM2);
  });

  it.each([
    { what: 'a clone', make: () => bankCard(rsaIssuer, { clone: true }), reason: 'card-auth-failed' },
    { what: 'an SM2 clone', make: () => bankCard(sm2Issuer, { clone: true }), reason: 'card-auth-failed' },
    { what: 'a tampered record', make: () => bankCard(rsaIssuer, { tamperRecord: true }), reason: 'bad-signature' },
    { what: 'an unknown CA key', make: () => bankCard(rsaIssuer, { caIndex: 'E9' }), reason: 'unknown-key' },
    { what: 'an expired card', make: () => bankCard(rsaIssuer, { expiry: '261231' }), reason: 'expired' },
    { what: 'a card without a UnionPay AID', make: () => bankCard(rsaIssuer, { aids: ['A0000000031010'] }), reason: 'card-not-supported' },
  ])('$what is refused $reason', async ({ make, reason }) => {
    const run = await cardRead(make());
    expect(run.code, run.stderr).toBe(1);
    expect(run.report).toMatchObject({ result: 'refused', reason });
    expect(run.stdout).not.toContain(PAN_RSA);
  });

  it('an expired card says which card: the masked PAN and its expiry', async () => {
    const run = await cardRead(bankCard(rsaIssuer, { expiry: '261231' }));
    expect(run.report).toMatchObject({ kind: 'emv', application: 'A000000333010101', pan: '622800******2233', expiry: '2026-12-31' });
  });

  it('a card pulled in the middle of the flow is card-removed', async () => {
    const run = await cardRead(bankCard(rsaIssuer), { removeAfterApdus: 3 });
    expect(run.code, run.stderr).toBe(1);
    expect(run.report).toMatchObject({ result: 'refused', reason: 'card-removed' });
  });

  it('no card within --wait is a usage error (exit 2) naming the wait', async () => {
    const child = spawn(process.execPath, [CLI, 'card', 'read', '--capk', capkPath, '--wait', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('no card on any reader within 1 s');
  });
});

describe('a gate taking bank cards keeps no clear PAN', () => {
  it('journal, log, upload and journal export hold the token and the masked PAN, never the PAN', async () => {
    const broker = await Mosquitto.start();
    const collector = await TestCollector.start(broker.url);
    const dir = join(root, 'gate');
    mkdirSync(dir);
    const issuer = new TestIssuer('cq.yukuaima', 'ES256');
    writeFileSync(join(dir, 'trust.json'), JSON.stringify(trustListOf([issuer])));
    writeFileSync(join(dir, 'token.key'), `${TOKEN_KEY}\n`);
    const config = join(dir, 'config.json');
    writeFileSync(
      config,
      JSON.stringify({
        gate: { id: 'BANK-1', site: 'site-bank', mode: 'metro-entry', doubleTapMs: 0, apduTimeoutMs: 2000, cards: { applications: ['qpboc', 'cg'], deadlineMs: 8000 }, metro: { station: 'S1', passbackMin: 1 } },
        paths: { state: join(dir, 'state'), trust: join(dir, 'trust.json'), capk: capkPath, tokenKey: join(dir, 'token.key') },
        sync: { broker: broker.url },
        devices: { readers: [{ driver: 'pcsc' }], barrier: { driver: 'sim' }, passage: { driver: 'sim', walkMs: 50 }, clock: { driver: 'system' } },
        metrics: { port: 0 },
      }),
    );
    const daemon = new DaemonProcess(CLI, config);
    try {
      await waitFor(() => daemon.has('gate ready'), `gate ready (stderr: ${daemon.stderr})`, 20_000);
      const cards: [ApduResponder, string][] = [
        [bankCard(rsaIssuer), 'accepted'],
        [bankCard(sm2Issuer), 'accepted'],
        [bankCard(rsaIssuer, { clone: true }), 'refused'],
        [bankCard(rsaIssuer, { expiry: '261231' }), 'refused'],
      ];
      for (const [card, result] of cards) {
        const before = daemon.taps().length;
        await slot.insert(card);
        await waitFor(() => daemon.taps().length > before, `a tap (stderr: ${daemon.stderr})`, 20_000);
        await slot.remove();
        expect(daemon.taps().at(-1)?.result).toBe(result);
      }
      await waitFor(() => collector.storedFor('BANK-1').length === cards.length, 'every tap uploaded', 20_000);
      const accepted = daemon.taps().filter((t) => t.result === 'accepted');
      expect(accepted.map((t) => t.kind)).toEqual(['emv', 'emv']);
      expect(accepted[0]!.emv).toMatchObject({ pan: '622800******2233', oda: 'rsa' });
      expect(accepted[1]!.emv).toMatchObject({ pan: '622800******5566', oda: 'sm2' });
      expect(collector.storedFor('BANK-1')[0]).toMatchObject({ kind: 'emv', subject: accepted[0]!.subject, emv: { atc: accepted[0]!.emv!.atc } });

      const exportCsv = await runCli(['journal', 'export', '--config', config, '--format', 'csv']);
      const exportJson = await runCli(['journal', 'export', '--config', config, '--format', 'json']);
      expect(exportJson.split('\n').filter(Boolean)).toHaveLength(cards.length);
      daemon.kill('SIGTERM');
      await daemon.closed;
      const journalBytes = Buffer.concat(['journal.db', 'journal.db-wal'].flatMap((file) => readOrNothing(join(dir, 'state', file))));
      const places: [string, string][] = [
        ['journal', journalBytes.toString('latin1')],
        ['log', daemon.lines.map((line) => JSON.stringify(line)).join('\n')],
        ['upload', JSON.stringify(collector.batches)],
        ['export csv', exportCsv],
        ['export json', exportJson],
      ];
      for (const [where, text] of places) {
        for (const pan of [PAN_RSA, PAN_SM2]) {
          // The digits, which are also the hex of the BCD in 5A or 57: a careless dump of either is caught too.
          expect(text.includes(pan), `${where} holds ${pan}`).toBe(false);
        }
        expect(text, where).toContain('622800******2233');
      }
    } finally {
      daemon.kill('SIGKILL');
      await daemon.closed;
      await collector.close();
      await broker.stop();
    }
  });
});

function readOrNothing(path: string): Buffer[] {
  try {
    return [readFileSync(path)];
  } catch {
    return [];
  }
}

async function runCli(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`citygate ${args.join(' ')}: exit ${code}: ${stderr}`);
  return stdout;
}
