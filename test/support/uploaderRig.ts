import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal } from '../../src/core/journal.js';
import { DEFAULT_UPLOADER, TapUploader, type UploaderClock, type UploaderOptions } from '../../src/core/sync/tapUploader.js';
import { RecordingLog } from '../../sim/recordingLog.js';
import { StepClock } from './stepClock.js';
import { makeTaps } from './tapPublisher.js';

/** A batch as the uploader handed it to MQTT, at the step clock's time. */
export interface SentBatch {
  at: number;
  seqs: number[];
}

/**
 * One TapUploader on a real journal in a temp dir, with time and chance in
 * the test's hands: `clock` moves only when told, `random` is what the test
 * passes. What it publishes is recorded instead of sent.
 */
export class UploaderRig {
  readonly sent: SentBatch[] = [];
  readonly log = new RecordingLog();
  readonly uploader: TapUploader;
  readonly journal: Journal;
  private readonly dir = mkdtempSync(join(tmpdir(), 'citygate-uploader-'));
  private last = 0;

  constructor(
    readonly clock: StepClock,
    options: Partial<UploaderOptions> = {},
    random: () => number = () => 0.5,
    readonly gate = 'RIG-1',
  ) {
    this.journal = Journal.open(join(this.dir, 'journal.db'), gate, 'S1');
    const uploaderClock: UploaderClock = {
      now: () => clock.at,
      random,
      after: (ms, run) => {
        const timer = clock.setTimer(ms, run);
        return () => timer.cancel();
      },
    };
    const publish = (payload: string) => {
      const batch = JSON.parse(payload) as { taps: { seq: number }[] };
      this.sent.push({ at: clock.at, seqs: batch.taps.map((t) => t.seq) });
      return Promise.resolve();
    };
    this.uploader = new TapUploader(this.journal, gate, publish, this.log, { ...DEFAULT_UPLOADER, ...options }, uploaderClock);
  }

  /** `count` taps committed, as the gate does: journaled, then the uploader nudged. */
  async tap(count = 1): Promise<void> {
    this.journal.adoptTaps(makeTaps(this.gate, this.last + 1, this.last + count));
    this.last += count;
    this.uploader.nudge();
    await this.clock.advance(0);
  }

  async ack(upTo: number): Promise<void> {
    this.uploader.onAck(Buffer.from(JSON.stringify({ upTo })));
    await this.clock.advance(0);
  }

  lastSeq(): number {
    return this.last;
  }

  /** Batches that carried taps sent before (resends); asks carry none. */
  resends(): SentBatch[] {
    let highest = 0;
    return this.sent.filter((batch) => {
      if (batch.seqs.length === 0) return false;
      const again = batch.seqs[0]! <= highest;
      highest = Math.max(highest, batch.seqs.at(-1)!);
      return again;
    });
  }

  close(): void {
    this.uploader.disconnected();
    this.journal.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
