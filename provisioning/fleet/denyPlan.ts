import { topics } from '../../src/core/sync/topics.js';
import type { FleetKey } from './fleetKey.js';
import { signFleetMessage } from './fleetSigner.js';
import type { FleetState } from './fleetState.js';

/** At most this many entries (add + remove) go into one message (docs/sync.md). */
export const MAX_ENTRIES_PER_MESSAGE = 100_000;

export interface DenyChanges {
  add: readonly string[];
  remove: readonly string[];
  /** Publish the whole list as a snapshot (base 0) instead of a delta. */
  snapshot: boolean;
}

/** One deny-list message as signed: the payload fields of docs/sync.md. */
export interface DenyPayload {
  issuer: string;
  seq: number;
  base: number;
  add: string[];
  remove: string[];
  issuedAt: number;
  part?: number;
  parts?: number;
}

export interface DenyPlan {
  /** The seq gates hold once every message is applied. */
  seq: number;
  messages: DenyPayload[];
  /** Entries asked for that changed nothing: already listed, or not listed. */
  alreadyListed: number;
  notListed: number;
  entries: number;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function snapshotMessages(state: FleetState, issuer: string, seq: number, issuedAt: number): DenyPayload[] {
  const count = state.entryCount(issuer);
  const parts = Math.max(1, Math.ceil(count / MAX_ENTRIES_PER_MESSAGE));
  const messages: DenyPayload[] = [];
  let after = '';
  for (let part = 1; part <= parts; part++) {
    const add = state.entriesAfter(issuer, after, MAX_ENTRIES_PER_MESSAGE);
    after = add.at(-1) ?? after;
    messages.push({ issuer, seq, base: 0, add, remove: [], issuedAt, ...(parts > 1 ? { part, parts } : {}) });
  }
  return messages;
}

/**
 * Apply `changes` to the issuer's list in `state`, and queue the signed
 * messages that take the gates there, in one transaction. A delta goes out as
 * `seq` = held + 1 on `base` = held (several consecutive deltas if it exceeds
 * the per-message limit). A snapshot replaces the list: with changes, or when
 * nothing was ever published, at a new seq; without changes, at the held seq,
 * which is the answer to a resync request: gates holding that seq ignore it,
 * lagging ones catch up.
 */
export function planDenyUpdate(state: FleetState, key: FleetKey, issuer: string, changes: DenyChanges, issuedAt: number): DenyPlan {
  return state.transaction(() => {
    const held = state.denySeq(issuer);
    const add = [...new Set(changes.add)].filter((entry) => !state.hasEntry(issuer, entry));
    const remove = [...new Set(changes.remove)].filter((entry) => state.hasEntry(issuer, entry));
    const alreadyListed = new Set(changes.add).size - add.length;
    const notListed = new Set(changes.remove).size - remove.length;
    for (const entry of add) state.addEntry(issuer, entry);
    for (const entry of remove) state.removeEntry(issuer, entry);
    const changed = add.length + remove.length > 0;

    let messages: DenyPayload[];
    if (changes.snapshot) {
      messages = snapshotMessages(state, issuer, changed || held === 0 ? held + 1 : held, issuedAt);
    } else {
      const edits = [...add.map((entry) => ({ entry, op: 'add' as const })), ...remove.map((entry) => ({ entry, op: 'remove' as const }))];
      messages = chunks(edits, MAX_ENTRIES_PER_MESSAGE).map((chunk, i) => ({
        issuer,
        seq: held + i + 1,
        base: held + i,
        add: chunk.filter((e) => e.op === 'add').map((e) => e.entry),
        remove: chunk.filter((e) => e.op === 'remove').map((e) => e.entry),
        issuedAt,
      }));
    }
    const seq = messages.at(-1)?.seq ?? held;
    state.setDenySeq(issuer, seq);
    for (const message of messages) state.queue(topics.denyList(issuer), signFleetMessage(key, { ...message }, 'denylist'), false);
    return { seq, messages, alreadyListed, notListed, entries: state.entryCount(issuer) };
  });
}
