import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetInit } from '../provisioning/fleet/fleetInit.js';
import { fleetRevoke } from '../provisioning/fleet/fleetRevoke.js';
import { FleetState } from '../provisioning/fleet/fleetState.js';
import { fleetTrust } from '../provisioning/fleet/fleetTrust.js';
import { keepMessage, keptMessage } from '../provisioning/fleet/keptMessages.js';
import { KeptLists } from '../provisioning/fleet/serve/keptLists.js';
import type { Jwk } from '../src/core/credentials/trustList.js';
import { topics } from '../src/core/sync/topics.js';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { Captured } from './support/capturedOutput.js';

/*
 * The signed trust and revocation messages `fleet trust` and `fleet revoke`
 * keep in DIR, and how `fleet serve` reads them: the message at the seq
 * held, or why there is none to send again.
 */

const root = mkdtempSync(join(tmpdir(), 'citygate-kept-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let made = 0;
function opsDir(): { dir: string; jwk: Jwk } {
  const dir = join(root, `ops-${++made}`);
  const output = new Captured();
  expect(fleetInit({ dir }, output)).toBe(0);
  return { dir, jwk: JSON.parse(output.stdout[0]!) as Jwk };
}

function kept(dir: string, list: 'trust' | 'revocations') {
  const state = new FleetState(dir);
  try {
    return keptMessage(state, list);
  } finally {
    state.close();
  }
}

const printed = (output: Captured) => Buffer.from((JSON.parse(output.stdout[0]!) as { payload: string }).payload, 'base64');

describe('kept messages', () => {
  it('fleet trust and fleet revoke keep the very message they hand over; a preview keeps none', async () => {
    const { dir, jwk } = opsDir();
    const file = join(root, `trust-${made}.json`);
    writeFileSync(file, JSON.stringify(trustListOf([new TestIssuer('cq.yukuaima', 'ES256')], [jwk])));

    expect(await fleetTrust({ dir, file, print: true }, new Captured())).toBe(0);
    expect(await fleetRevoke({ dir, add: ['A000000333:03:00012F'], print: true }, new Captured())).toBe(0);
    expect([kept(dir, 'trust'), kept(dir, 'revocations')]).toEqual([undefined, undefined]);

    const trusted = new Captured();
    expect(await fleetTrust({ dir, file, print: true, commit: true }, trusted)).toBe(0);
    const revoked = new Captured();
    expect(await fleetRevoke({ dir, add: ['A000000333:03:00012F'], print: true, commit: true }, revoked)).toBe(0);
    expect(kept(dir, 'trust')).toEqual({ seq: 1, payload: new Uint8Array(printed(trusted)) });
    const { exp } = JSON.parse(revoked.stderr.find((line) => line.startsWith('{'))!) as { exp: number };
    expect(kept(dir, 'revocations')).toEqual({ seq: 1, exp, payload: new Uint8Array(printed(revoked)) });
  });

  it('reads a kept message that does not read as none', () => {
    const { dir } = opsDir();
    const state = new FleetState(dir);
    try {
      for (const body of ['not json', '{"seq": 1}', '{"seq": 0, "payload": "AA=="}', '{"seq": 1, "payload": "not base64!"}', '{"seq": 1, "exp": -5, "payload": "AA=="}']) {
        state.setDocument('trust-message', body);
        expect(keptMessage(state, 'trust')).toBeUndefined();
      }
    } finally {
      state.close();
    }
  });
});

describe('KeptLists', () => {
  it('gives the message at the seq held, not one of an earlier seq nor one past its exp', () => {
    const { dir } = opsDir();
    const state = new FleetState(dir);
    const lists = new KeptLists(dir);
    try {
      expect(lists.published()).toEqual({ trustListSeq: 0, revocationSeq: 0, revocationExp: null });
      // A seq taken by a tool of an earlier version, which kept no message.
      state.setCounter('trust', 2);
      keepMessage(state, 'trust', { seq: 1, payload: Uint8Array.of(1) });
      expect(lists.standing('trust', 1_000)).toEqual({ missing: 'not-kept', seq: 2 });
      expect(lists.messages('trust', 1_000)).toBeUndefined();
      keepMessage(state, 'trust', { seq: 2, payload: Uint8Array.of(2) });
      expect(lists.messages('trust', 1_000)).toEqual({ seq: 2, parts: [{ topic: topics.trust, payload: Uint8Array.of(2), retain: true }] });

      state.setCounter('revocations', 7);
      keepMessage(state, 'revocations', { seq: 7, exp: 2_000, payload: Uint8Array.of(7) });
      expect(lists.messages('revocations', 1_999)).toEqual({ seq: 7, parts: [{ topic: topics.revocations, payload: Uint8Array.of(7), retain: true }] });
      expect(lists.standing('revocations', 2_000)).toEqual({ missing: 'expired', seq: 7, exp: 2_000 });
      expect(lists.messages('revocations', 2_000)).toBeUndefined();
      expect(lists.published()).toEqual({ trustListSeq: 2, revocationSeq: 7, revocationExp: '1970-01-01T00:33:20.000Z' });
      // A seq taken since by a tool that kept no message: the expiry kept is not that list's.
      state.setCounter('revocations', 8);
      expect(lists.published().revocationExp).toBeNull();
    } finally {
      lists.close();
      state.close();
    }
  });
});
