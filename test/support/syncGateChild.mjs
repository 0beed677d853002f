// A simulated gate with its FleetLink in a process of its own, so a test can SIGKILL it.
// Built code only (dist/): run the build first. Usage:
//   node syncGateChild.mjs '{"url", "dir", "gateId", "count", "uploader"}'
// Presents `count` fresh codes as fast as the gate takes them, printing one JSON line per
// event on stdout: {"event":"ready"}, {"event":"tap","seq"} and {"event":"done","last"}.
// SIGTERM stops it cleanly (offline status, journal closed).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
const load = (path) => import(join(dist, path));
const { createSimBoard } = await load('sim/board.js');
const { TestIssuer, trustListOf } = await load('sim/issuer.js');
const { assembleGate } = await load('src/app/assemble.js');
const { loadTrustFile, TrustFile } = await load('src/app/trustFile.js');
const { CATEGORIES } = await load('src/core/credentials/credential.js');
const { DenyListStore } = await load('src/core/denylist/denyListStore.js');
const { silentLog } = await load('src/core/log.js');
const { DEFAULT_TIMINGS } = await load('src/core/settings.js');
const { FleetLink } = await load('src/core/sync/fleetLink.js');
const { DEFAULT_UPLOADER } = await load('src/core/sync/tapUploader.js');

const { url, dir, gateId, count, uploader } = JSON.parse(process.argv[2]);
const say = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

const issuer = new TestIssuer('cq.yukuaima', 'ES256');
const trustPath = join(dir, 'trust.json');
writeFileSync(trustPath, JSON.stringify(trustListOf([issuer])));
const board = createSimBoard(Date.now());
const settings = { gateId, site: 'site-k', zone: undefined, mode: 'bus', categories: CATEGORIES, fares: { default: 200, byCategory: {} }, ...DEFAULT_TIMINGS, cardsWhenClockUntrusted: true, timezone: 'Asia/Shanghai' };
const denyList = DenyListStore.open(join(dir, 'denylist'));
const parts = assembleGate({ board, settings, trust: loadTrustFile(trustPath), denyList, journalPath: join(dir, 'journal.db'), log: silentLog });
const trust = new TrustFile(trustPath, parts.journal, parts.decider);
const link = new FleetLink(
  { ...parts, denyList, trust, clock: board.clock, gateId, site: settings.site, skewSec: settings.skewSec, version: 'child', log: silentLog },
  { url, uploader: { ...DEFAULT_UPLOADER, ...uploader }, maxBackoffMs: 1_000 },
);
await parts.gate.start();
link.start();

process.on('SIGTERM', async () => {
  await link.stop();
  await parts.gate.stop();
  parts.journal.close();
  denyList.close();
  process.exit(0);
});

say({ event: 'ready' });
for (let i = 0; i < count; i++) {
  const outcome = await parts.gate.presentCode(issuer.issuerCode({ sub: `acct-${i}`, iat: Math.floor(board.clock.now() / 1000) }));
  if (outcome.type === 'tap') say({ event: 'tap', seq: outcome.tap.seq });
  // Let the link's socket breathe between taps, as a gate's idle moments do.
  await new Promise((resolve) => setImmediate(resolve));
}
say({ event: 'done', last: parts.journal.lastTapSeq() });
