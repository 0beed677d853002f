import { join } from 'node:path';
import Database from 'better-sqlite3';
import { topics } from '../../../src/core/sync/topics.js';
import { MAX_ENTRIES_PER_MESSAGE } from '../denyPlan.js';
import type { FleetKey } from '../fleetKey.js';
import { signFleetMessage } from '../fleetSigner.js';
import { FleetState } from '../fleetState.js';
import type { ListMessage, ListSource } from './resyncAnswers.js';

/**
 * The deny lists as the fleet-ops directory holds them (fleet-state.db, which
 * `fleet deny` writes), read by the fleet service: the seq of every issuer,
 * and the whole list signed at that seq, the answer to a gate that lags.
 * It never takes a seq or changes a list: a snapshot at the held seq is what
 * `fleet deny --snapshot` without changes sends, so the tools and the service
 * can run at once on one directory (SQLite serialises their transactions).
 */
export class DenySnapshots implements ListSource {
  private readonly state: FleetState;
  /** A second connection for the one query FleetState has no method for: which issuers have a list. */
  private readonly reader: Database.Database;
  private readonly listIssuers: Database.Statement;

  constructor(
    dir: string,
    private readonly key: FleetKey,
  ) {
    // FleetState makes the file and its tables, so a directory that never pushed a list still opens.
    this.state = new FleetState(dir);
    this.reader = new Database(join(dir, 'fleet-state.db'));
    this.reader.pragma('busy_timeout = 5000');
    this.listIssuers = this.reader.prepare('SELECT issuer, seq FROM deny_seq WHERE seq > 0 ORDER BY issuer');
  }

  /** Issuer -> the seq the fleet holds, for every issuer with a list. */
  heldSeqs(): Map<string, number> {
    return new Map((this.listIssuers.all() as { issuer: string; seq: number }[]).map((row) => [row.issuer, row.seq]));
  }

  held(issuer: string): number {
    return this.state.denySeq(issuer);
  }

  /**
   * The whole list of `issuer` at the seq held, signed (base 0; in parts of
   * 100,000 entries past that). Retained when it is one message, as a push
   * leaves it (docs/sync.md, "What a push carries"): it also puts back a
   * retained snapshot the broker lost. Undefined when the issuer has no list.
   */
  messages(issuer: string, issuedAt: number): { seq: number; parts: ListMessage[] } | undefined {
    // One transaction: the seq and the entries read are of the same push.
    return this.state.transaction(() => {
      const seq = this.state.denySeq(issuer);
      if (seq === 0) return undefined;
      const count = this.state.entryCount(issuer);
      const parts = Math.max(1, Math.ceil(count / MAX_ENTRIES_PER_MESSAGE));
      const signed: ListMessage[] = [];
      let after = '';
      for (let part = 1; part <= parts; part++) {
        const add = this.state.entriesAfter(issuer, after, MAX_ENTRIES_PER_MESSAGE);
        after = add.at(-1) ?? after;
        const payload = { issuer, seq, base: 0, add, remove: [], issuedAt, ...(parts > 1 ? { part, parts } : {}) };
        signed.push({ topic: topics.denyList(issuer), payload: signFleetMessage(this.key, payload, 'denylist'), retain: parts === 1 });
      }
      return { seq, parts: signed };
    });
  }

  close(): void {
    this.reader.close();
    this.state.close();
  }
}
