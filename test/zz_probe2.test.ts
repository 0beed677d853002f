import { it } from 'vitest';
import { encode } from 'cborg';
import { Decider } from '../src/core/decider.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import { ReplayGuard } from '../src/core/replayGuard.js';
import { Tagged } from '../src/core/credentials/cbor.js';
import { TestIssuer, claimsMap, coseKeyOf, coseSign1, makeKeyPair } from '../sim/issuer.js';
import { VirtualCard } from '../sim/virtualCard.js';
import { NOW, NOW_MS, gateSettings, prng, responder, simChannel, trustOf } from './fixtures.js';

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

it('probe cards', async () => {
  const es = new TestIssuer('cq', 'ES256');
  const ed = new TestIssuer('sc', 'EdDSA');
  const d = new Decider(trustOf([es, ed]), gateSettings(), new MemoryDenyList(), new ReplayGuard());
  const rnd = prng(Number(process.env.SEED ?? 7));
  const counts: Record<string, number> = {};
  const labels = [1, 2, 4, 5, 6, 7, 8, -65537, -65538];
  for (let i = 0; i < 6000; i++) {
    const issuer = i % 2 ? es : ed;
    const key = makeKeyPair(i % 4 < 2 ? 'ES256' : 'EdDSA');
    const base = claimsMap({ iss: issuer.id, sub: 's', exp: NOW + 100, iat: NOW - 10, cti: new Uint8Array(16), category: 'adult', cnf: coseKeyOf(key) });
    const mode = i % 3;
    let card;
    if (mode === 0) {
      base.set(labels[Math.floor(rnd() * labels.length)]!, randValue(rnd));
      card = new VirtualCard('s', coseSign1(issuer.key, encode(base), { kid: issuer.kid }), key);
    } else if (mode === 1) {
      const ck = coseKeyOf(key) as Map<number, unknown>;
      ck.set([1, 3, -1, -2, -3][Math.floor(rnd() * 5)]!, randValue(rnd));
      base.set(8, new Map([[1, ck]]));
      card = new VirtualCard('s', coseSign1(issuer.key, encode(base), { kid: issuer.kid }), key);
    } else {
      const genuine = new VirtualCard('s', coseSign1(issuer.key, encode(base), { kid: issuer.kid }), key);
      card = responder((apdu, n) => {
        const real = genuine.respond(apdu);
        const r = rnd();
        if (r < 0.15) return Uint8Array.from({ length: Math.floor(rnd() * 4) }, () => Math.floor(rnd() * 256));
        if (r < 0.3) return Uint8Array.of(0x61, Math.floor(rnd() * 256));
        if (r < 0.45) return Uint8Array.of(0x6c, Math.floor(rnd() * 256));
        if (r < 0.6) { const b = Uint8Array.from(real); b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8); return b; }
        return real;
      });
    }
    const r = await d.decideCard(await simChannel(card), { nowMs: NOW_MS, clockTrusted: true });
    const k = r.result === 'refused' ? r.reason + (r.detail.startsWith('unexpected') ? ' UNEXPECTED ' + r.detail.slice(0, 400) : '') : 'ok';
    counts[`${mode} ${k}`] = (counts[`${mode} ${k}`] ?? 0) + 1;
  }
  console.log(counts);
});
