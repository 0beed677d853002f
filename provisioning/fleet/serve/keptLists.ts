import { topics } from '../../../src/core/sync/topics.js';
import { FleetState } from '../fleetState.js';
import { keptMessage, type KeptList, type KeptMessage } from '../keptMessages.js';
import type { ListMessage, ListSource } from './resyncAnswers.js';

/** Where each list is retained. */
export const KEPT_TOPICS: Record<KeptList, string> = { trust: topics.trust, revocations: topics.revocations };

/** The kept message at the seq held, or why none can go out: not kept (DIR written by an earlier version, or a seq taken since) or past its `exp`. */
export type KeptStanding = { message: KeptMessage } | { missing: 'not-kept'; seq: number } | { missing: 'expired'; seq: number; exp: number };

/**
 * The trust list and the revocation list as DIR holds them, read by the
 * fleet service: the seq `fleet trust` and `fleet revoke` took last, and the
 * message they signed at it. A lagging gate gets those exact bytes again,
 * retained: the service never signs these lists, so ops' `exp` stands.
 */
export class KeptLists implements ListSource<KeptList> {
  private readonly state: FleetState;

  constructor(dir: string) {
    this.state = new FleetState(dir);
  }

  held(list: KeptList): number {
    return this.state.counter(list);
  }

  /** The seqs published last (0: never), and when the revocation list kept runs out (null: none kept), for the view. */
  published(): { trustListSeq: number; revocationSeq: number; revocationExp: string | null } {
    const revocationSeq = this.held('revocations');
    const kept = keptMessage(this.state, 'revocations');
    const exp = kept && kept.seq >= revocationSeq ? kept.exp : undefined;
    return { trustListSeq: this.held('trust'), revocationSeq, revocationExp: exp === undefined ? null : new Date(exp * 1000).toISOString() };
  }

  standing(list: KeptList, nowSec: number): KeptStanding {
    // Read without a write lock (WAL): the seq first, so a tool committing in between leaves a newer message, never an older one.
    const seq = this.held(list);
    const kept = keptMessage(this.state, list);
    if (kept === undefined || kept.seq < seq) return { missing: 'not-kept', seq };
    if (kept.exp !== undefined && kept.exp <= nowSec) return { missing: 'expired', seq: kept.seq, exp: kept.exp };
    return { message: kept };
  }

  messages(list: KeptList, nowSec: number): { seq: number; parts: ListMessage[] } | undefined {
    const standing = this.standing(list, nowSec);
    if (!('message' in standing)) return undefined;
    return { seq: standing.message.seq, parts: [{ topic: KEPT_TOPICS[list], payload: standing.message.payload, retain: true }] };
  }

  close(): void {
    this.state.close();
  }
}
