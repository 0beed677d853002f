/*
 * citygate benchmark: decision latency of the gate against the floors it is
 * built from (one native signature verification, one durable SQLite commit),
 * all measured in the same run, on the same disk.
 *
 *   npm run bench                # or: npx tsc -p . && node dist/bench/run.js
 *   BENCH_N=5000 BENCH_DIR=/var/lib/citygate npm run bench
 *
 * Output: one JSON object per line. Figures: {"name","unit":"us","n","p50","p99","mean","min","max"};
 * ratios: {"name":"ratio.<figure>","unit":"x","value","goal",...}; last, the machine.
 * limit.commit is a commit loop with nothing between commits (the raw floor);
 * limit.commit.paced has a code decision's CPU work (untimed) before each
 * commit, the cadence the gate's own commits run at. The bank-card decisions
 * (decision.card.qpboc.rsa/sm2, on a gate of their own that takes bank cards)
 * include the simulated card's own fDDA signing; card.qpboc.*.respond is that
 * time, and their ratio lines add valueP50LessCard, the p50 ratio without it.
 * Env: BENCH_N (2000), BENCH_WARMUP (200), BENCH_CHUNK (25: iterations per
 * turn when the figures are interleaved), BENCH_DIR (os.tmpdir()).
 */
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { cpus, platform, release, arch, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { benchCamera } from './camera.js';
import { daemonFigures } from './daemon.js';
import { bankCardCase, bankGate, benchGate, cardCase, decisionWork, holderCodeCase, issuerCodeCase, transportCodeCase, transportGate } from './decision.js';
import { denyListBench } from './denyList.js';
import { benchPcsc } from './pcsc.js';
import { commitCase, rsaRecoverCase, verifyCase } from './limits.js';
import { runInterleaved, type BenchCase } from './runner.js';
import { sm2VerifyCase } from './sm2Verify.js';
import { round1, round3, summarise, type Summary } from './stats.js';
import { syncDrain } from './syncDrain.js';
import { purseCryptoCase, tunionBenchGate, tunionCardCase } from './tunion.js';

const GOAL = 1.5;

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** What each decision needs at least: the verifications on its path plus one commit (or `commits`). */
const FLOORS: Record<string, { verifies: string[]; why: string; commits?: number }> = {
  'decision.code.issuer': { verifies: ['limit.verify.es256'], why: '1 ES256 verify (issuer) + commit' },
  'decision.code.holder': { verifies: ['limit.verify.es256'], why: '1 ES256 verify (outer, holder key; inner cached) + commit' },
  'decision.card': { verifies: ['limit.verify.es256'], why: '1 ES256 verify (challenge; certificate cached) + commit' },
  'decision.card.qpboc.rsa': { verifies: ['limit.recover.rsa1024'], why: '1 RSA-1024 fDDA recovery (9F4B: raw public op + SHA-1 check; certificates cached) + commit' },
  'decision.card.qpboc.sm2': { verifies: ['limit.verify.sm2'], why: '1 SM2 verify (9F4B, parsed ICC key kept; certificates cached) + commit' },
  'decision.code.transport': { verifies: ['limit.verify.sm2'], why: '1 SM2 verify (the phone\'s signature, parsed key kept; issuer certificate and account cached) + commit' },
  // A purse purchase commits twice: its pending tap before DEBIT (what a kill at DEBIT leaves), then its tap.
  'decision.card.tunion': { verifies: ['limit.purse.crypto'], commits: 2, why: "a purchase's 3DES (the PSAM's diversification, session key, MAC1, MAC2 check; the card's session key, MAC1 check, MAC2, TAC) + 2 commits" },
};

const FS_TYPES: Record<number, string> = {
  0xef53: 'ext4',
  0x01021994: 'tmpfs',
  0x794c7630: 'overlayfs',
  0x9123683e: 'btrfs',
  0x58465342: 'xfs',
  0x2fc12fc1: 'zfs',
  0x6969: 'nfs',
  0x4d44: 'vfat',
  0xf15f: 'ecryptfs',
  0x65735546: 'fuse',
};

function fsType(dir: string): string {
  try {
    const type = Number(statfsSync(dir).type);
    return FS_TYPES[type] ?? `0x${type.toString(16)}`;
  } catch {
    return 'unknown';
  }
}

function print(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function figure(name: string, s: Summary): object {
  return { name, unit: 'us', n: s.n, p50: round1(s.p50), p99: round1(s.p99), mean: round1(s.mean), min: round1(s.min), max: round1(s.max) };
}

async function main(): Promise<void> {
  const n = intFromEnv('BENCH_N', 2000);
  const warmup = intFromEnv('BENCH_WARMUP', 200);
  const chunk = intFromEnv('BENCH_CHUNK', 25);
  const base = resolve(process.env.BENCH_DIR || tmpdir());
  const dir = mkdtempSync(join(base, 'citygate-bench-'));
  const started = Date.now();
  try {
    const gate = await benchGate(dir);
    const bank = await bankGate(dir);
    const transport = await transportGate(dir);
    const tunion = await tunionBenchGate(dir);
    const commit = commitCase(dir);
    const pacedCommit = commitCase(dir, 'limit.commit.paced', decisionWork(gate));
    const bankCards = [bankCardCase(bank, 'rsa'), bankCardCase(bank, 'sm2')];
    const cases: BenchCase[] = [
      issuerCodeCase(gate),
      holderCodeCase(gate),
      cardCase(gate),
      ...bankCards,
      transportCodeCase(transport),
      tunionCardCase(tunion),
      purseCryptoCase(),
      verifyCase('ES256'),
      verifyCase('EdDSA'),
      rsaRecoverCase(),
      sm2VerifyCase('parsed'),
      sm2VerifyCase('fixed'),
      commit,
      pacedCommit,
    ];
    const samples = await runInterleaved(cases, { warmup, n, chunk });
    const summaries = new Map([...samples].map(([name, s]) => [name, summarise(s)]));
    await gate.close();
    await bank.close();
    await transport.close();
    await tunion.close();
    commit.close();
    pacedCommit.close();

    for (const c of cases) print(figure(c.name, summaries.get(c.name)!));
    // The simulated bank card's own time in those taps (its fDDA signature above all), and the taps without it.
    const lessCard = new Map<string, Summary>();
    for (const c of bankCards) {
      const cardUs = c.cardUs.slice(-n); // the measured taps, after the warm-up ones
      print(figure(`${c.name.replace('decision.', '')}.respond`, summarise(cardUs)));
      lessCard.set(c.name, summarise(samples.get(c.name)!.map((us, i) => us - cardUs[i]!)));
    }
    const commitP99 = summaries.get('limit.commit')!.p99;
    const pacedP99 = summaries.get('limit.commit.paced')!.p99;
    for (const [name, floor] of Object.entries(FLOORS)) {
      const decisionP99 = summaries.get(name)!.p99;
      const verifyP99 = floor.verifies.reduce((sum, v) => sum + summaries.get(v)!.p99, 0);
      const verifyP50 = floor.verifies.reduce((sum, v) => sum + summaries.get(v)!.p50, 0);
      const commits = floor.commits ?? 1;
      const limitP50 = verifyP50 + commits * summaries.get('limit.commit')!.p50;
      const limitP99 = verifyP99 + commits * commitP99;
      const limitPacedP99 = verifyP99 + commits * pacedP99;
      print({
        name: `ratio.${name}`,
        unit: 'x',
        value: round3(decisionP99 / limitP99),
        goal: GOAL,
        decisionP99: round1(decisionP99),
        limitP99: round1(limitP99),
        // The same with the commit measured at the gate's cadence (limit.commit.paced).
        valuePaced: round3(decisionP99 / limitPacedP99),
        limitPacedP99: round1(limitPacedP99),
        // The typical case: p50 over the p50 floor.
        valueP50: round3(summaries.get(name)!.p50 / limitP50),
        // Bank cards: the same at p50 with the simulated card's own time taken out of each tap.
        ...(lessCard.has(name) ? { valueP50LessCard: round3(lessCard.get(name)!.p50 / limitP50), lessCardP50: round1(lessCard.get(name)!.p50) } : {}),
        limit: floor.why,
      });
    }
    // The parts beyond the tap path, each on its own so that none disturbs the figures above.
    for (const f of await benchCamera()) print(f);
    for (const f of await benchPcsc({ warmup: 10, n: intFromEnv('BENCH_PCSC_N', 100) })) print(f);
    for (const f of await denyListBench(base)) print(f);
    print(await syncDrain(100_000, dir));
    for (const f of await daemonFigures(5)) print(f);
    const cpu = cpus();
    print({
      name: 'machine',
      cpu: cpu[0]?.model ?? 'unknown',
      cores: cpu.length,
      memMB: Math.round(totalmem() / 2 ** 20),
      node: process.version,
      os: `${platform()} ${release()} ${arch()}`,
      disk: base,
      fs: fsType(base),
      runSec: round1((Date.now() - started) / 1000),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
