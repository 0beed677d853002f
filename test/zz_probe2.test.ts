import { it } from 'vitest';
import { encode } from 'cborg';
import { Decider } from '../src/core/decider.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import { ReplayGuard } from '../src/core/replayGuard.js';
import { Tagged } from '../src/core/credentials/cbor.js';
import { TestIssuer, claimsMap, codeText, coseKeyOf, coseSign1, makeKeyPair } from '../sim/issuer.js';
import { NOW, NOW_MS, gateSettings, prng, rawSign1, trustOf } from './fixtures.js';

function randValue(rnd: () => number, depth = 0): unknown {
  const k = Math.floor(rnd() * 16);
  switch (k) {
    case 0: return Math.floor(rnd() * 100) - 50;
    case 1: return 2n ** 64n - 1n;
    case 2: return -(2n ** 64n);
    case 3: return [NaN, Infinity, -Infinity, 1.5, -0.0, 1e300][Math.floor(rnd() * 6)];
    case 4: return 'adult';
    case 5: return '';
    case 6: return new Uint8Array(Math.floor(rnd() * 3) * 16);
    case 7: return rnd() < 0.5;
    case 8: return null;
    case 9: return undefined;
    case 10: return depth > 2 ? 1 : [randValue(rnd, depth + 1)];
    case 11: return depth > 2 ? 1 : new Map([[randValue(rnd, depth + 1) as any, randValue(rnd, depth + 1)]]);
    case 12: return depth > 2 ? 1 : new Tagged(18, randValue(rnd, depth + 1));
    case 13: return Uint8Array.from({ length: 32 }, () => Math.floor(rnd() * 256));
    case 14: return NOW;
    default: return 'site';
  }
}

it('probe2', () => {
  const es = new TestIssuer('cq', 'ES256');
  const ed = new TestIssuer('sc', 'EdDSA');
  const d = new Decider(trustOf([es, ed]), gateSettings(), new MemoryDenyList(), new ReplayGuard());
  const rnd = prng(Number(process.env.SEED ?? 7));
  const counts: Record<string, number> = {};
  const labels = [1, 2, 4, 5, 6, 7, 8, -65537, -65538];
  for (let i = 0; i < 20000; i++) {
    const issuer = i % 2 ? es : ed;
    const holderKey = makeKeyPair(i % 4 < 2 ? 'ES256' : 'EdDSA');
    const mode = i % 5;
    const base = claimsMap({ iss: issuer.id, sub: 's', exp: NOW + 100, iat: NOW - 10, cti: new Uint8Array(16), category: 'adult', product: { site: 'cq-metro-l2' } });
    let text: string;
    if (mode === 0) {
      base.set(labels[Math.floor(rnd() * labels.length)]!, randValue(rnd));
      text = codeText(issuer.sign({} as any, {}).length ? codeText(coseSign1(issuer.key, encode(base), { kid: issuer.kid })).slice(4) === '' ? '' : coseSign1(issuer.key, encode(base), { kid: issuer.kid }) : new Uint8Array());
    } else if (mode === 1) {
      // product field
      base.set(-65538, new Map([[['site', 'zone', 'from', 'until', 'entries', 1][Math.floor(rnd() * 6)] as any, randValue(rnd)]]));
      text = codeText(coseSign1(issuer.key, encode(base), { kid: issuer.kid }));
    } else if (mode === 2) {
      // cnf key fields in inner credential
      const ck = coseKeyOf(holderKey) as Map<number, unknown>;
      ck.set([1, 3, -1, -2, -3][Math.floor(rnd() * 5)]!, randValue(rnd));
      base.set(8, new Map([[1, ck]]));
      const inner = coseSign1(issuer.key, encode(base), { kid: issuer.kid });
      const payload = encode(new Map<number, unknown>([[1, inner], [2, NOW], [3, 1]]));
      text = codeText(coseSign1(holderKey, payload));
    } else if (mode === 3) {
      base.set(8, new Map([[1, coseKeyOf(holderKey)]]));
      const inner = coseSign1(issuer.key, encode(base), { kid: issuer.kid });
      const p = new Map<number, unknown>([[1, inner], [2, NOW], [3, 1]]);
      p.set([2, 3, 4][Math.floor(rnd() * 3)]!, randValue(rnd));
      text = codeText(coseSign1(holderKey, encode(p)));
    } else {
      // protected header
      const h = new Map<unknown, unknown>([[1, -7], [4, issuer.kid]]);
      h.set([1, 2, 4, 3][Math.floor(rnd() * 4)]!, randValue(rnd));
      text = codeText(rawSign1(es.key, encode(base), { protectedBytes: encode(h), unprotected: rnd() < 0.3 ? new Map([[4, randValue(rnd)]]) : new Map() }));
    }
    const r = d.decideCode(text, { nowMs: NOW_MS, clockTrusted: true });
    const key = r.result === 'refused' ? r.reason + (r.detail.startsWith('unexpected') ? ' UNEXPECTED ' + r.detail.slice(0, 400) : '') : 'ok';
    counts[`${mode} ${key}`] = (counts[`${mode} ${key}`] ?? 0) + 1;
  }
  console.log(counts);
});
