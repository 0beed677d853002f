import fc from 'fast-check';
import type { Journal } from '../../src/core/journal.js';
import type { Log } from '../../src/core/log.js';
import { ReplayGuard } from '../../src/core/replayGuard.js';
import { SiteSharing } from '../../src/core/sync/siteSharing.js';
import { TapUploader } from '../../src/core/sync/tapUploader.js';
import { jsonShapes, mutatedJson } from './jsonMutators.js';
import { charOf, mutatedText } from './mutators.js';
import { accepted, crashed, jsonText, refused, violated, type FuzzTarget, type Outcome } from './target.js';
import { GATE_ID, NOW_MS } from './world.js';

/*
 * The unsigned JSON the gate takes from the broker: the collector's tap acks
 * (TapUploader.onAck) and the site's used-credential messages
 * (SiteSharing.receive). Neither returns anything: a refusal is the warning
 * they log, and nothing may escape them. Both run on a real journal.
 */

/** Collects the warnings of one call: that is how these handlers say no. */
class WarningLog implements Log {
  warnings: string[] = [];
  info(): void {}
  warn(_fields: object, message: string): void {
    this.warnings.push(message);
  }
  error(_fields: object, message: string): void {
    this.warnings.push(`error: ${message}`);
  }
}

const JSON_CHARS = '{}[]":,0123456789-.eE+ truefalsn\\u';

function handled(call: () => void, log: WarningLog, check: () => string | undefined): Outcome {
  log.warnings = [];
  try {
    call();
  } catch (error) {
    return crashed(error);
  }
  const problem = check();
  if (problem !== undefined) return violated(problem);
  return log.warnings.length === 0 ? accepted : refused(log.warnings[0]!);
}

const ACK_SEEDS = ['{"upTo":3}', '{"upTo":40}', '{"upTo":0}', '{ "upTo" : 12 , "extra": true }'];

/** Tap acks on `citygate/v1/gates/{gate}/taps/ack`: the delivered mark moves only forward and never past the last tap. */
export function tapAckTarget(journal: Journal): FuzzTarget<string> {
  const log = new WarningLog();
  const uploader = new TapUploader(journal, GATE_ID, async () => {}, log);
  return {
    name: 'mqtt-tap-ack',
    weight: 2,
    arbitrary: fc.oneof(
      { weight: 3, arbitrary: mutatedText(ACK_SEEDS, charOf(JSON_CHARS)).map((m) => m.value) },
      { weight: 3, arbitrary: mutatedJson(ACK_SEEDS.map((s) => JSON.parse(s) as unknown), ['upTo']).map((m) => JSON.stringify(m.value) ?? '') },
      { weight: 2, arbitrary: jsonShapes(['upTo'], 1).map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    ),
    run: (text) => {
      const before = journal.deliveredSeq();
      return handled(() => uploader.onAck(Buffer.from(text, 'utf8')), log, () => {
        const after = journal.deliveredSeq();
        if (after < before) return `delivered mark went back from ${before} to ${after}`;
        if (after > journal.lastTapSeq()) return `delivered mark ${after} past the last tap ${journal.lastTapSeq()}`;
        return undefined;
      });
    },
    ...jsonText,
  };
}

const SITE_SEEDS: unknown[] = [
  { gate: 'fuzz-gate-2', used: [{ key: 'cti:cq.yukuaima:00ff', until: NOW_MS + 60_000 }] },
  { gate: 'fuzz-gate-3', used: [{ key: 'holder:sc.tianfu:acct-1:1800000000:3', until: NOW_MS + 5_000 }, { key: 'cti:x:01', until: NOW_MS - 1 }] },
  { gate: GATE_ID, used: [{ key: 'cti:own:02', until: NOW_MS + 60_000 }] },
];

/** Used-credential messages on `citygate/v1/sites/{site}/used`: an accepted entry still valid is remembered. */
export function siteUsedTarget(journal: Journal): FuzzTarget<string> {
  const log = new WarningLog();
  const replay = new ReplayGuard();
  const sharing = new SiteSharing(GATE_ID, journal, replay, () => NOW_MS, log);
  const seedTexts = SITE_SEEDS.map((s) => JSON.stringify(s));
  return {
    name: 'mqtt-site-used',
    weight: 2,
    arbitrary: fc.oneof(
      { weight: 3, arbitrary: mutatedJson(SITE_SEEDS, ['gate', 'used', 'key', 'until']).map((m) => JSON.stringify(m.value) ?? '') },
      { weight: 2, arbitrary: mutatedText(seedTexts, charOf(JSON_CHARS)).map((m) => m.value) },
      { weight: 2, arbitrary: jsonShapes(['gate', 'used', 'key', 'until'], 3).map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
    ),
    run: (text) => handled(() => sharing.receive(Buffer.from(text, 'utf8')), log, () => undefined),
    ...jsonText,
  };
}
