import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { driverRegistry } from '../bin/driverRegistry.js';
import { createAplaySpeaker } from '../hal/audio/aplaySpeaker.js';
import { PROMPTS } from '../hal/speaker.js';
import { createSimBoard } from '../sim/board.js';
import { TestIssuer } from '../sim/issuer.js';
import { SimSpeaker } from '../sim/simSpeaker.js';
import { buildBoard } from '../src/app/boardBuilder.js';
import { configSchema } from '../src/app/config.js';
import { silentLog } from '../src/core/log.js';
import { gateFixture, nowSec, START, type GateFixture } from './gateFixture.js';
import { waitFor } from './support/waitFor.js';

const SHIPPED = join(import.meta.dirname, '..', 'assets', 'prompts');

/*
 * A stand-in `aplay` on PATH: it records its arguments, one line per run;
 * refuse.wav "plays" until killed, and with APLAY_FAIL set it fails as aplay
 * does without a sound card.
 */
const STAND_IN = `#!/bin/sh
echo "$*" >> "$APLAY_LOG"
if [ -n "$APLAY_FAIL" ]; then
  echo 'ALSA lib confmisc.c:855:(parse_card) cannot find card 0' >&2
  echo 'aplay: main:831: audio open error: No such file or directory' >&2
  exit 1
fi
for file in "$@"; do :; done
case "$file" in */refuse.wav) exec sleep 30 ;; esac
exit 0
`;

let dir: string;
let log: string;
const savedPath = process.env['PATH'];
const fixtures: GateFixture[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'citygate-speaker-'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin', 'aplay'), STAND_IN);
  chmodSync(join(dir, 'bin', 'aplay'), 0o755);
  log = join(dir, 'aplay.log');
  process.env['APLAY_LOG'] = log;
  process.env['PATH'] = `${join(dir, 'bin')}:${savedPath}`;
});
afterEach(() => {
  process.env['PATH'] = `${join(dir, 'bin')}:${savedPath}`;
  delete process.env['APLAY_FAIL'];
  rmSync(log, { force: true });
  for (const f of fixtures.splice(0)) f.dispose();
});
afterAll(() => {
  process.env['PATH'] = savedPath;
  rmSync(dir, { recursive: true, force: true });
});

const runs = (): string[] => {
  try {
    return readFileSync(log, 'utf8').trim().split('\n');
  } catch {
    return [];
  }
};

function health() {
  const reports: [boolean, string][] = [];
  return { reports, sink: (healthy: boolean, detail: string) => reports.push([healthy, detail]) };
}

describe('shipped prompts', () => {
  it('has one small 16 kHz mono WAV for every prompt id, and nothing else', () => {
    expect(readdirSync(SHIPPED).sort()).toEqual(PROMPTS.map((p) => `${p}.wav`).sort());
    let total = 0;
    for (const prompt of PROMPTS) {
      const file = join(SHIPPED, `${prompt}.wav`);
      const wav = bufferWav(readFileSync(file));
      expect(wav, prompt).toMatchObject({ channels: 1, sampleRate: 16_000, bitsPerSample: 16 });
      expect(wav.seconds, prompt).toBeGreaterThan(0.3);
      total += statSync(file).size;
    }
    expect(total).toBeLessThan(500_000);
  });
});

describe('aplay speaker', () => {
  it('plays each prompt file with aplay on the configured ALSA device, and reports the prompts found at start', async () => {
    const h = health();
    const speaker = createAplaySpeaker({ dir: SHIPPED, device: 'plughw:1,0' }, h.sink);
    expect(h.reports).toEqual([[true, `${PROMPTS.length} prompts in ${SHIPPED}`]]);
    await speaker.say('category-senior');
    await speaker.say('accept');
    expect(runs()).toEqual([`-q -D plughw:1,0 ${SHIPPED}/category-senior.wav`, `-q -D plughw:1,0 ${SHIPPED}/accept.wav`]);
    expect(h.reports).toHaveLength(1);
  });

  it('cuts the prompt still playing when the next one comes, without calling that a fault', async () => {
    const h = health();
    const speaker = createAplaySpeaker({ dir: SHIPPED }, h.sink);
    const first = speaker.say('refuse');
    await waitForRuns(1);
    await speaker.say('category-student');
    await first;
    expect(runs()).toEqual([`-q ${SHIPPED}/refuse.wav`, `-q ${SHIPPED}/category-student.wav`]);
    expect(h.reports.every(([healthy]) => healthy)).toBe(true);
  });

  it('reports missing prompt files at start and when asked for one, and plays the rest', async () => {
    const partial = join(dir, 'partial');
    mkdirSync(partial, { recursive: true });
    copyFileSync(join(SHIPPED, 'accept.wav'), join(partial, 'accept.wav'));
    const h = health();
    const speaker = createAplaySpeaker({ dir: partial }, h.sink);
    expect(h.reports[0]![0]).toBe(false);
    expect(h.reports[0]![1]).toContain(`prompt files missing in ${partial}: refuse.wav, emergency.wav, category-adult.wav`);
    await speaker.say('category-child');
    expect(h.reports[1]).toEqual([false, `prompt category-child: ${partial}/category-child.wav is missing`]);
    await speaker.say('accept');
    expect(runs()).toEqual([`-q ${partial}/accept.wav`]);
    expect(h.reports.at(-1)![0]).toBe(false);

    // The operator puts the files back: healthy after the next prompt.
    for (const prompt of PROMPTS) copyFileSync(join(SHIPPED, `${prompt}.wav`), join(partial, `${prompt}.wav`));
    await speaker.say('category-child');
    expect(h.reports.at(-1)).toEqual([true, `${PROMPTS.length} prompts in ${partial}`]);
  });

  it("reports aplay's own error, and healthy again once a prompt plays", async () => {
    const h = health();
    const speaker = createAplaySpeaker({ dir: SHIPPED }, h.sink);
    process.env['APLAY_FAIL'] = '1';
    await speaker.say('accept');
    expect(h.reports.at(-1)).toEqual([false, `aplay ${SHIPPED}/accept.wav exited with 1: aplay: main:831: audio open error: No such file or directory`]);
    delete process.env['APLAY_FAIL'];
    await speaker.say('accept');
    expect(h.reports.at(-1)![0]).toBe(true);
  });

  it('says that alsa-utils is missing when there is no aplay', async () => {
    process.env['PATH'] = join(dir, 'nowhere');
    const h = health();
    const speaker = createAplaySpeaker({ dir: SHIPPED }, h.sink);
    await speaker.say('accept');
    expect(h.reports.at(-1)).toEqual([false, 'aplay not found: install alsa-utils']);
  });
});

describe('devices.speaker in the config', () => {
  function config(speaker: object) {
    return configSchema.parse({ gate: { id: 'SPK-1', site: 'site-s', mode: 'bus' }, devices: { clock: { driver: 'sim' }, barrier: { driver: 'sim' }, speaker } });
  }

  it('builds the aplay speaker, and its missing prompts reach the gate as device health', async () => {
    const built = await buildBoard(config({ driver: 'aplay', dir: join(dir, 'empty') }), await driverRegistry(), silentLog, 'config.json');
    expect(built.board.speaker).toBeDefined();
    const reports: [string, boolean, string][] = [];
    // The speaker's own report; the sim clock reports its judgement too.
    built.health.attach((device, healthy, detail) => device === 'speaker' && reports.push([device, healthy, detail]));
    expect(reports).toHaveLength(1);
    expect(reports[0]!.slice(0, 2)).toEqual(['speaker', false]);
    expect(reports[0]![2]).toMatch(/^prompt files missing in .*empty: accept\.wav, refuse\.wav/);
  });

  it('names a wrong setting with its field and value', async () => {
    await expect(buildBoard(config({ driver: 'aplay', volume: 3 }), await driverRegistry(), silentLog, 'config.json')).rejects.toThrow(/config\.json: devices\.speaker.*Unrecognized key: "volume"/);
    await expect(buildBoard(config({ driver: 'pulse' }), await driverRegistry(), silentLog, 'config.json')).rejects.toThrow('config.json: devices.speaker.driver: "pulse" is not a driver here; allowed: aplay, sim');
  });

  it('leaves the speaker out when the config has none', async () => {
    const built = await buildBoard(configSchema.parse({ gate: { id: 'SPK-2', site: 'site-s', mode: 'bus' }, devices: { clock: { driver: 'sim' }, barrier: { driver: 'sim' } } }), await driverRegistry(), silentLog, 'config.json');
    expect(built.board.speaker).toBeUndefined();
    expect(built.problems).toEqual([]);
  });
});

describe('the gate announces', () => {
  const issuer = new TestIssuer('cq.yukuaima', 'ES256');

  async function lane(speaker: SimSpeaker | ReturnType<typeof createAplaySpeaker>) {
    const board = Object.assign(createSimBoard(START), { speaker });
    const f = await gateFixture({}, { dir: mkdtempSync(join(tmpdir(), 'citygate-speaker-gate-')), issuer, board });
    fixtures.push(f);
    return f;
  }

  it('the holder category on acceptance, a refusal prompt on refusal, and "please pass" for a remote opening', async () => {
    const speaker = new SimSpeaker();
    const f = await lane(speaker);
    for (const category of ['senior', 'student', 'disabled', 'adult'] as const) {
      await f.gate.presentCode(issuer.issuerCode({ sub: `acct-${category}`, iat: nowSec(f.board), category }));
      f.board.passage.pass();
    }
    await f.gate.presentCode(new TestIssuer('nobody.known', 'ES256').issuerCode({ sub: 'x', iat: nowSec(f.board) }));
    f.gate.remoteOpen();
    expect(speaker.said).toEqual(['category-senior', 'category-student', 'category-disabled', 'category-adult', 'refuse', 'accept']);
    expect(f.journal.taps().map((t) => t.category)).toEqual(['senior', 'student', 'disabled', 'adult', null]);
  });

  it('through aplay: the senior prompt file is played for a senior', async () => {
    const f = await lane(createAplaySpeaker({ dir: SHIPPED }, () => undefined));
    await f.gate.presentCode(issuer.issuerCode({ sub: 'acct-s', iat: nowSec(f.board), category: 'senior' }));
    await waitForRuns(1);
    expect(runs()).toEqual([`-q ${SHIPPED}/category-senior.wav`]);
  });
});

async function waitForRuns(n: number): Promise<void> {
  await waitFor(() => runs().length >= n, `${n} aplay run(s)`);
}

/** The fields of a canonical PCM WAV header (RIFF, "fmt " chunk first) a player needs. */
function bufferWav(bytes: Buffer): { channels: number; sampleRate: number; bitsPerSample: number; seconds: number } {
  expect(bytes.toString('ascii', 0, 4)).toBe('RIFF');
  expect(bytes.toString('ascii', 8, 16)).toBe('WAVEfmt ');
  expect(bytes.readUInt16LE(20)).toBe(1);
  const channels = bytes.readUInt16LE(22);
  const sampleRate = bytes.readUInt32LE(24);
  const byteRate = bytes.readUInt32LE(28);
  const bitsPerSample = bytes.readUInt16LE(34);
  expect(bytes.toString('ascii', 36, 40)).toBe('data');
  return { channels, sampleRate, bitsPerSample, seconds: bytes.readUInt32LE(40) / byteRate };
}
