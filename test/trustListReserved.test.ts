import { describe, expect, it } from 'vitest';
import { TestIssuer, trustListOf } from '../sim/issuer.js';
import { TrustListError, TrustStore } from '../src/core/credentials/trustList.js';

/*
 * Security issue 17: an issuer named `uid` would share its subjects with UID
 * cards in deny lists and access allow-lists (`emv` with bank cards, `transport`
 * with transport QR codes), so a trust list naming one is refused, with a
 * message saying why.
 */

describe('reserved issuer ids in a trust list', () => {
  it.each(['uid', 'emv', 'transport', 'UID', 'Emv', 'Transport'])('refuses an issuer named %s, naming the entry and why', (id) => {
    const list = trustListOf([new TestIssuer('cq.yukuaima', 'ES256'), new TestIssuer(id, 'ES256')]);
    let error: unknown;
    try {
      TrustStore.fromDocument(list);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TrustListError);
    expect((error as Error).message).toBe(
      `trust list: issuers[1]: issuer id "${id}" is reserved (uid, emv, transport: UID cards, bank cards and transport QR codes, whose entries in deny lists and allow-lists it would share)`,
    );
    expect(() => TrustStore.fromJson(JSON.stringify(list))).toThrow(/issuers\[1\]: issuer id .* is reserved/);
  });

  it('takes issuers whose ids only contain those names', () => {
    expect(() => TrustStore.fromDocument(trustListOf(['uid.campus', 'cq.emv', 'uidx', 'transport.sh'].map((id) => new TestIssuer(id, 'EdDSA'))))).not.toThrow();
  });
});
