import { SM2_DEFAULT_USER_ID } from '../../crypto/sm2.js';
import { VERSION_LOCAL, type IssuerCertificateFields, type TransportVersion } from './layout.js';

/*
 * The SM2 user ids (the ID in Z_A) of the three signatures of a transport
 * code (CARDS.md §4, and the open reader's qr_jtb.c). The interoperable
 * version uses the default id of GM/T 0009 for all three; the local version
 * one per signature, made of the signed data's own fields.
 */

/** The root's signature over the issuer certificate: service id ‖ root CA index (0x81). */
export function certificateUserId(version: TransportVersion, certificate: Pick<IssuerCertificateFields, 'serviceId' | 'rootIndex'>): Uint8Array {
  if (version !== VERSION_LOCAL) return SM2_DEFAULT_USER_ID;
  const id = new Uint8Array(5);
  id.set(certificate.serviceId);
  id[4] = certificate.rootIndex;
  return id;
}

/** The issuer's signature over the account: issuing organisation ‖ platform (0x81). */
export function accountUserId(version: TransportVersion, organisation: Uint8Array, platform: Uint8Array): Uint8Array {
  if (version !== VERSION_LOCAL) return SM2_DEFAULT_USER_ID;
  const id = new Uint8Array(8);
  id.set(organisation);
  id.set(platform, 4);
  return id;
}

/** The user's signature over the code: the account number (0x81). */
export function codeUserId(version: TransportVersion, accountNumber: Uint8Array): Uint8Array {
  return version === VERSION_LOCAL ? accountNumber : SM2_DEFAULT_USER_ID;
}
