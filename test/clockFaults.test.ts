import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { UidCard } from '../sim/uidCard.js';
import { accessSchema } from '../src/app/rules/accessSchema.js';
import { brokerForFile, cleanupAfterEach } from './support/cleanups.js';
import { DaemonProcess } from '../faults/daemonProcess.js';
import { gateFixture } from './gateFixture.js';
import { waitFor } from './support/waitFor.js';

/*
 * Clock faults on the running daemon (sim lane, real SystemClock logic over a
 * simulated NTP and RTC, real broker): a wall clock set an hour back or
 * forward, NTP never synchronizing, an RTC missing or reset to 2000. No code
 * that is expired or not yet valid in true time is ever accepted because of
 * the clock; codes are refused `clock-untrusted` while time cannot be
 * trusted, and the fleet sees it in the status.
 */

const HOUR_MS = 3_600_000;
const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const broker = brokerForFile();
const defer = cleanupAfterEach();
let dir: string;
let subjects = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'citygate-clock-'));
  writeFileSync(join(dir, 'trust.json'), JSON.stringify(trustListOf([issuer])));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function startGate(gateId: string, clock: Record<string, unknown>): DaemonProcess {
  const config = join(dir, `${gateId}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      // No double-tap window: a code shown again here is a new presentation, judged again.
      gate: { id: gateId, site: 'site-c', mode: 'metro-entry', fares: { default: 200, byCategory: {} }, doubleTapMs: 0 },
      paths: { state: join(dir, gateId), trust: join(dir, 'trust.json') },
      sync: { broker: broker().url },
      devices: { scanners: [{ driver: 'sim', input: '-' }], barrier: { driver: 'sim' }, passage: { driver: 'sim', walkMs: 50 }, indicators: { driver: 'sim' }, display: { driver: 'sim' }, clock: { driver: 'sim', ...clock } },
      metrics: { port: 0 },
    }),
  );
  const gate = new DaemonProcess('dist/bin/citygate.js', config);
  defer(async () => void (await gate.stop()));
  return gate;
}

/** The gate's retained status documents, newest last. */
async function watchStatus(gateId: string): Promise<Record<string, unknown>[]> {
  const seen: Record<string, unknown>[] = [];
  const client: MqttClient = await mqtt.connectAsync(broker().url, { clientId: `clock-status-${gateId}` });
  defer(() => client.endAsync());
  client.on('message', (_topic, payload) => seen.push(JSON.parse(payload.toString()) as Record<string, unknown>));
  await client.subscribeAsync(`citygate/v1/gates/${gateId}/status`, { qos: 1 });
  return seen;
}

/** A code valid from `fromMs` (true time) for two minutes, with a subject of its own. */
function codeValidAt(fromMs: number): string {
  return issuer.issuerCode({ sub: `acct-${++subjects}`, iat: Math.floor(fromMs / 1000) });
}

async function reasonFor(gate: DaemonProcess, fromMs: number): Promise<string> {
  return (await gate.tapFor(codeValidAt(fromMs))).reason;
}

const latest = (statuses: Record<string, unknown>[]) => statuses.filter((s) => s.online === true).at(-1);

describe('clock faults on the running gate', () => {
  it('an hour back or forward: codes valid only at the wrong time are clock-untrusted, never accepted; NTP back restores trust and the true verdicts', async () => {
    const statuses = await watchStatus('CLK-1');
    const gate = startGate('CLK-1', { trusted: true, rtc: 'ok' });
    await waitFor(() => latest(statuses)?.clockTrusted === true, `status with a trusted clock (stderr: ${gate.stderr})`);
    expect(await reasonFor(gate, Date.now())).toBe('ok');

    // Set an hour back: a code that expired some 58 minutes ago looks fresh to the wrong clock.
    gate.scan(`#clock jump ${-HOUR_MS}`);
    const expiredInTruth = codeValidAt(Date.now() - HOUR_MS - 5_000);
    expect((await gate.tapFor(expiredInTruth)).reason).toBe('clock-untrusted');
    expect(await reasonFor(gate, Date.now())).toBe('clock-untrusted');
    await waitFor(() => latest(statuses)?.clockTrusted === false, 'the fleet sees the untrusted clock');
    expect((latest(statuses)!.hal as Record<string, { healthy: boolean; detail: string }>).clock).toMatchObject({ healthy: false });

    gate.scan('#ntp on');
    await waitFor(() => latest(statuses)?.clockTrusted === true, 'trusted again once NTP synchronized');
    expect(await reasonFor(gate, Date.now())).toBe('ok');
    expect((await gate.tapFor(expiredInTruth)).reason).toBe('expired');

    // Set an hour forward: a code that becomes valid in an hour looks valid now to the wrong clock.
    gate.scan(`#clock jump ${HOUR_MS}`);
    const futureInTruth = codeValidAt(Date.now() + HOUR_MS - 5_000);
    expect((await gate.tapFor(futureInTruth)).reason).toBe('clock-untrusted');
    await waitFor(() => latest(statuses)?.clockTrusted === false, 'the fleet sees the untrusted clock again');
    gate.scan('#ntp on');
    await waitFor(() => latest(statuses)?.clockTrusted === true, 'trusted again');
    expect((await gate.tapFor(futureInTruth)).reason).toBe('not-yet-valid');

    expect(gate.taps().filter((t) => t.result === 'accepted').map((t) => t.reason)).toEqual(['ok', 'ok']);
    expect(await gate.stop()).toBe(0);
  });

  it('NTP never synchronizing: the RTC vouches while it agrees; reset to 2000 or missing, codes are clock-untrusted and the status says why', async () => {
    const statuses = await watchStatus('CLK-2');
    const gate = startGate('CLK-2', { trusted: false, rtc: 'ok' });
    await waitFor(() => latest(statuses)?.clockTrusted === true, `trusted on the RTC alone (stderr: ${gate.stderr})`);
    expect(await reasonFor(gate, Date.now())).toBe('ok');

    gate.scan('#rtc reset');
    await waitFor(() => latest(statuses)?.clockTrusted === false, 'the RTC that lost its time is seen');
    const clock = () => (latest(statuses)!.hal as Record<string, { healthy: boolean; detail: string }>).clock!;
    expect(clock().detail).toMatch(/before 2024: it lost its time/);
    expect(await reasonFor(gate, Date.now())).toBe('clock-untrusted');

    gate.scan('#rtc missing');
    await waitFor(() => /no chip answers/.test(clock().detail), 'the missing RTC is seen');
    expect(await reasonFor(gate, Date.now())).toBe('clock-untrusted');
    // Set back an hour with the RTC answering again: it disagrees, and says by how much.
    gate.scan(`#clock jump ${-HOUR_MS}`);
    gate.scan('#rtc ok');
    await waitFor(() => /ms off sim RTC/.test(clock().detail), 'the RTC disagreeing with the system time');
    expect(await reasonFor(gate, Date.now() - HOUR_MS)).toBe('clock-untrusted');
    expect(gate.taps().filter((t) => t.result === 'accepted')).toHaveLength(1);
  });

  it('no NTP and no RTC from the start: the gate serves, refuses every code as clock-untrusted, and says so', async () => {
    const statuses = await watchStatus('CLK-3');
    const gate = startGate('CLK-3', { trusted: false, rtc: 'missing' });
    await waitFor(() => latest(statuses) !== undefined, `first status (stderr: ${gate.stderr})`);
    expect(latest(statuses)).toMatchObject({ clockTrusted: false, hal: { clock: { healthy: false } } });
    expect(await reasonFor(gate, Date.now())).toBe('clock-untrusted');
    expect(await reasonFor(gate, Date.now() - 30_000)).toBe('clock-untrusted');
  });
});

describe('cards and allow-listed badges while the clock is untrusted (gate.cardsWhenClockUntrusted)', () => {
  const UID = '04A1B2C3D4E5F6';
  const access = accessSchema.parse({ allow: [{ uid: UID.toLowerCase() }], uidCards: true });
  let fixture: Awaited<ReturnType<typeof gateFixture>> | undefined;
  afterEach(() => fixture?.dispose());

  it.each([
    [true, 'ok'],
    [false, 'clock-untrusted'],
  ])('with the policy %s an allow-listed UID badge is %s', async (policy, reason) => {
    fixture = await gateFixture({ mode: 'access', access, cardsWhenClockUntrusted: policy });
    fixture.board.clock.setTrusted(false);
    fixture.board.reader.present(new UidCard(UID.toLowerCase()));
    await fixture.gate.settled();
    expect(fixture.journal.taps().map((t) => t.reason)).toEqual([reason]);
  });
});
