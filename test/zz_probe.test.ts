import { it } from 'vitest';
import { Decider } from '../src/core/decider.js';
import { MemoryDenyList } from '../src/core/denyList.js';
import { ReplayGuard } from '../src/core/replayGuard.js';
import { decodeBase45, encodeBase45 } from '../src/core/credentials/base45.js';
import { TestHolder, TestIssuer } from '../sim/issuer.js';
import { NOW, NOW_MS, gateSettings, prng, trustOf } from './fixtures.js';

function mutate(bytes: number[], rnd: () => number) {
  const n = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < n; k++) {
    const op = Math.floor(rnd() * 3); const i = Math.floor(rnd() * bytes.length);
    if (op === 0) bytes[i] = bytes[i]! ^ (1 << Math.floor(rnd() * 8));
    else if (op === 1) bytes.splice(i, 0, Math.floor(rnd() * 256));
    else bytes.splice(i, 1);
  }
  return bytes;
}

it('probe', () => {
  const es = new TestIssuer('cq', 'ES256');
  const ed = new TestIssuer('sc', 'EdDSA');
  const d = new Decider(trustOf([es, ed]), gateSettings(), new MemoryDenyList(), new ReplayGuard());
  const rnd = prng(Number(process.env.SEED ?? 1));
  const texts = [es.issuerCode({ sub: 'a', iat: NOW, product: { site: 'cq-metro-l2', entries: 2 } }), TestHolder.enrol(ed, { sub: 'h', iat: NOW - 100 }, 'ES256').offlineCode(NOW), TestHolder.enrol(es, { sub: 'h', iat: NOW - 100 }, 'EdDSA').offlineCode(NOW)];
  const counts: Record<string, number> = {};
  for (let seed = 0; seed < 100000; seed++) {
    const base = texts[seed % 3]!;
    let text: string;
    if (seed % 2) {
      text = 'CG1:' + encodeBase45(Uint8Array.from(mutate([...decodeBase45(base.slice(4))], rnd)));
    } else {
      text = Buffer.from(mutate([...Buffer.from(base, 'latin1')], rnd)).toString('latin1');
    }
    const r = d.decideCode(text, { nowMs: NOW_MS, clockTrusted: true });
    const key = r.result === 'refused' ? r.reason + (r.detail.startsWith('unexpected') ? ' UNEXPECTED ' + r.detail.slice(0, 300) : '') : 'ok';
    counts[key] = (counts[key] ?? 0) + 1;
    if (key === 'ok') console.log(seed, Buffer.from(decodeBase45(base.slice(4))).toString('hex'), '\n', text.startsWith('CG1:') ? (()=>{try{return Buffer.from(decodeBase45(text.slice(4))).toString('hex')}catch{return 'X'}})() : text);
  }
  console.log(counts);
});
