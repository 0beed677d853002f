import { InputError } from './settingsSchema.js';
import { certificatesIn, SiteSenderCheck, SiteSigner } from '../core/sync/siteSignature.js';
import type { SiteAuthentication } from '../core/sync/siteSharing.js';

/**
 * Site sharing is authenticated when the gate can sign (its device
 * certificate and key) and check (the fleet's device CA: `sync.tls.deviceCa`,
 * or the broker's CA when one CA signs both). A gate without a device
 * certificate (development, a password broker) shares unsigned.
 */
export function siteAuthentication(tls: { ca?: string; cert?: string; key?: string; deviceCa?: string } | undefined, now: () => number): SiteAuthentication | undefined {
  const caPem = tls?.deviceCa ?? tls?.ca;
  if (!tls?.cert || !tls.key || !caPem) return undefined;
  let cas;
  try {
    cas = certificatesIn(caPem);
  } catch (error) {
    throw new InputError(`sync.tls: the device CA file is not a PEM certificate: ${(error as Error).message}`);
  }
  if (cas.length === 0) throw new InputError('sync.tls: the device CA file holds no certificate');
  try {
    return { signer: new SiteSigner(tls.cert, tls.key), check: new SiteSenderCheck(cas, now) };
  } catch (error) {
    throw new InputError(`sync.tls: cannot sign site messages with the client certificate and key: ${(error as Error).message}`);
  }
}
