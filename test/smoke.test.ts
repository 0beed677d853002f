import { describe, expect, it } from 'vitest';
import { CodeVerifier } from '../src/core/credentials/codeVerifier.js';
import { TrustStore } from '../src/core/credentials/trustList.js';
import { TestHolder, TestIssuer, trustListOf } from '../sim/issuer.js';

describe('smoke', () => {
  it('verifies both profiles', () => {
    const now = 1_800_000_000;
    const es = new TestIssuer('cq.yukuaima', 'ES256');
    const ed = new TestIssuer('sc.tianfu', 'EdDSA');
    const v = new CodeVerifier(TrustStore.fromDocument(trustListOf([es, ed])));
    const time = { nowMs: now * 1000, skewSec: 30, freshnessSec: 60 };
    expect(v.verify(es.issuerCode({ sub: 'a1', iat: now }), time).subject).toBe('a1');
    const holder = TestHolder.enrol(ed, { sub: 'h1', iat: now - 100, category: 'senior' }, 'EdDSA');
    const c = v.verify(holder.offlineCode(now), time);
    expect(c).toMatchObject({ profile: 'holder', subject: 'h1', category: 'senior', issuer: 'sc.tianfu' });
  });
});
