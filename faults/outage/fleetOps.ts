import mqtt from 'mqtt';
import { generateFleetKey, publicJwkOf, type FleetKey } from '../../provisioning/fleet/fleetKey.js';
import { signFleetMessage } from '../../provisioning/fleet/fleetSigner.js';
import type { Jwk } from '../../src/core/credentials/trustList.js';
import { topics } from '../../src/core/sync/topics.js';

export interface DenyUpdate {
  issuer: string;
  seq: number;
  base: number;
  add: string[];
  issuedAt: number;
}

/** The fleet-ops side: its signing key (as `citygate fleet` makes it) and signed deny-list updates (docs/sync.md). */
export class FleetOps {
  private readonly key: FleetKey = generateFleetKey('ES256');

  jwk(): Jwk {
    return publicJwkOf(this.key);
  }

  denyUpdate(update: DenyUpdate): Uint8Array {
    return signFleetMessage(this.key, { ...update, remove: [] });
  }

  /** Publish an update with QoS 1 from a short-lived fleet client; resolves once the broker has it. */
  async publishDenyUpdate(url: string, update: DenyUpdate): Promise<void> {
    const client = await mqtt.connectAsync(url, { clientId: `fleet-ops-${process.pid}-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0, connectTimeout: 5_000 });
    try {
      await client.publishAsync(topics.denyList(update.issuer), Buffer.from(this.denyUpdate(update)), { qos: 1 });
    } finally {
      await client.endAsync();
    }
  }
}
