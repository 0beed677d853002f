import { randomBytes } from 'node:crypto';
import type { CardChannel } from '../../../hal/cardReader.js';
import { asIdentified, refuse } from '../reasons.js';
import { CG_AID, exchange, internalAuthenticate, readBinary, READ_CHUNK, selectAid, SW_END_OF_FILE, SW_FILE_NOT_FOUND, SW_OK, SW_WRONG_P1P2, swText } from './apdu.js';
import type { CardApplication, CardCheck } from './cardApplication.js';
import type { Credential } from './credential.js';
import { BoundCredentialVerifier, ticketOf } from './issuerSigned.js';
import { verifySignature } from './publicKey.js';
import type { TrustStore } from './trustList.js';
import { checkValidity } from './validity.js';

/** A certificate longer than this is not a CG card certificate. */
const MAX_CERTIFICATE = 4096;
const MAX_GATE_ID = 32;

/**
 * The CG card (DESIGN.md §3): select the application, read the issuer's
 * certificate, and make the card prove it holds the certified key by signing a
 * fresh challenge. A copied certificate without the private key is
 * `card-auth-failed`.
 */
export class CgCardApplication implements CardApplication {
  readonly name = 'cg';
  readonly viaPpse = false;
  private readonly bound: BoundCredentialVerifier;

  constructor(trust: TrustStore) {
    this.bound = new BoundCredentialVerifier(trust);
  }

  setTrust(trust: TrustStore): void {
    this.bound.setTrust(trust);
  }

  matches(): boolean {
    return false;
  }

  async read(channel: CardChannel, check: CardCheck): Promise<Credential | undefined> {
    const timeout = check.apduTimeoutMs;
    const select = await exchange(channel, selectAid(CG_AID), timeout, 'SELECT');
    if (select.sw === SW_FILE_NOT_FOUND) return undefined;
    if (select.sw !== SW_OK) refuse('card-not-supported', `SELECT of the CG application answered ${swText(select.sw)}`);

    const certificate = await readCertificate(channel, timeout);
    const card = this.bound.verify(certificate, check, 'card certificate');

    const identity = { issuer: card.claims.iss, subject: card.claims.sub, category: card.claims.category };
    await asIdentified(identity, async () => {
      const challenge = makeChallenge(check.gateId);
      const auth = await exchange(channel, internalAuthenticate(challenge), timeout, 'INTERNAL AUTHENTICATE');
      if (auth.sw !== SW_OK) refuse('card-auth-failed', `INTERNAL AUTHENTICATE answered ${swText(auth.sw)}`);
      if (!verifySignature(card.boundKey, challenge, auth.data)) {
        refuse('card-auth-failed', 'the card could not sign the challenge with its certified key (a clone?)');
      }
      checkValidity(card.claims, check, 'card certificate');
    });
    // A ticket a card carries is counted like one a code carries: by its issuer and cti (issue 17).
    const ticket = asIdentified(identity, () => ticketOf(card.claims, card.namesEntries, check.skewSec, 'card certificate'));
    return {
      kind: 'card',
      profile: 'card',
      issuer: card.claims.iss,
      subject: card.claims.sub,
      category: card.claims.category,
      product: card.claims.product,
      cti: card.claims.cti ? Buffer.from(card.claims.cti).toString('hex') : undefined,
      replay: undefined,
      ...(ticket ? { ticket } : {}),
    };
  }
}

async function readCertificate(channel: CardChannel, timeoutMs: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const response = await exchange(channel, readBinary(length, READ_CHUNK), timeoutMs, 'READ BINARY');
    if (response.sw === SW_WRONG_P1P2) break;
    if (response.sw !== SW_OK && response.sw !== SW_END_OF_FILE) refuse('malformed', `READ BINARY at ${length} answered ${swText(response.sw)}`);
    parts.push(response.data);
    length += response.data.length;
    if (length > MAX_CERTIFICATE) refuse('malformed', `card certificate longer than ${MAX_CERTIFICATE} bytes`);
    if (response.sw === SW_END_OF_FILE || response.data.length < READ_CHUNK) break;
  }
  if (length === 0) refuse('malformed', 'card certificate is empty');
  return Buffer.concat(parts);
}

/** 16 random bytes, then the gate id (UTF-8, at most 32 bytes), so a signature made for one gate cannot be replayed at another. */
export function makeChallenge(gateId: string): Uint8Array {
  const id = Buffer.from(gateId, 'utf8').subarray(0, MAX_GATE_ID);
  return Buffer.concat([randomBytes(16), id]);
}
