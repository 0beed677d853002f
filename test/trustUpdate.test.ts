import { describe, expect, it } from 'vitest';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { FleetMessageError } from '../src/core/sync/fleetMessage.js';
import { openTrustUpdate } from '../src/core/sync/trustUpdate.js';
import { TestFleetKey, trustUpdatePayload } from './support/fleetSigner.js';

/* A signed trust-list update is opened only if the gate could load the list it carries. */

const fleet = new TestFleetKey();
const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const inForce = TrustStore.fromDocument(trustListOf([issuer], [fleet.jwk()]));
const NOW = Math.floor(Date.now() / 1000);

describe('trust-list updates', () => {
  it('opens a signed update whose keys all import', () => {
    const update = openTrustUpdate(fleet.sign(trustUpdatePayload(2, trustListOf([issuer], [fleet.jwk()]))), inForce, NOW);
    expect(update.seq).toBe(2);
  });

  it('refuses as invalid a signed update with a key that is not a point on its curve, naming the update', () => {
    const list = trustListOf([issuer], [fleet.jwk()]);
    const broken = { ...list, issuers: list.issuers.map((i) => ({ ...i, keys: i.keys.map((k) => ({ ...k, y: k.x })) })) };
    let error: unknown;
    try {
      openTrustUpdate(fleet.sign(trustUpdatePayload(3, broken)), inForce, NOW);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(FleetMessageError);
    expect(error).toMatchObject({ reason: 'invalid', detail: expect.stringMatching(/^trust-list update 3: /) });
  });
});
