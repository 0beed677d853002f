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

/** A signed deny-list message to publish: retained when it is the whole list in one message. */
export interface DenyMessage {
  payload: DenyPayload;
  retain: boolean;
}

export interface DenyPlan {
  /** The seq gates hold once every message is applied. */
  seq: number;
  messages: DenyMessage[];
  /** The whole list went out retained, in one message: a gate at any seq, or one that connects later, takes it. */
  retainedSnapshot: boolean;
  /** The list no longer fits one message: the snapshot retained before was cleared, so no stale list stands on the topic. */
  clearedRetained: boolean;
  /** Entries asked for that changed nothing: already listed, or not listed. */
  alreadyListed: number;
  notListed: number;
  entries: number;
}

/** Counter name: 1 while a retained snapshot of the issuer stands on its topic. */
const retainedCounter = (issuer: string) => `retained:${issuer}`;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function snapshotPayloads(state: FleetState, issuer: string, seq: number, issuedAt: number): DenyPayload[] {
  const count = state.entryCount(issuer);
  const parts = Math.max(1, Math.ceil(count / MAX_ENTRIES_PER_MESSAGE));
  const payloads: DenyPayload[] = [];
  let after = '';
  for (let part = 1; part <= parts; part++) {
    const add = state.entriesAfter(issuer, after, MAX_ENTRIES_PER_MESSAGE);
    after = add.at(-1) ?? after;
    payloads.push({ issuer, seq, base: 0, add, remove: [], issuedAt, ...(parts > 1 ? { part, parts } : {}) });
  }
  return payloads;
}

/**
 * Apply `changes` to the issuer's list in `state`, and queue the signed
 * messages that take every gate there, in one transaction (docs/sync.md):
 *
 * - the first push of an issuer is the whole list (base 0) at seq 1;
 * - later changes go out as deltas, `seq` = held + 1 on `base` = held
 *   (several consecutive deltas past the per-message limit);
 * - then, when the list fits one message, the whole list at the new seq,
 *   **retained**: a gate that cannot apply the delta (a new or replacement
 *   gate at seq 0, one that missed an update) takes it, now or whenever it
 *   connects; gates that applied the delta ignore it as a replay. A list in
 *   parts cannot be retained (one message per topic): the retained one is
 *   cleared, and lagging gates catch up by a resync answer.
 *
 * `changes.snapshot` sends the whole list even without changes, at the held
 * seq: the answer to a resync request, which gates already there ignore.
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
    const outcome = { alreadyListed, notListed, entries: state.entryCount(issuer) };
    if (!changed && !changes.snapshot) return { seq: held, messages: [], retainedSnapshot: false, clearedRetained: false, ...outcome };

    const messages: DenyMessage[] = [];
    let seq = held === 0 ? 1 : held;
    if (changed && held > 0) {
      const edits = [...add.map((entry) => ({ entry, op: 'add' as const })), ...remove.map((entry) => ({ entry, op: 'remove' as const }))];
      chunks(edits, MAX_ENTRIES_PER_MESSAGE).forEach((chunk, i) => {
        const add = chunk.filter((e) => e.op === 'add').map((e) => e.entry);
        const remove = chunk.filter((e) => e.op === 'remove').map((e) => e.entry);
        messages.push({ payload: { issuer, seq: held + i + 1, base: held + i, add, remove, issuedAt }, retain: false });
      });
      seq = messages.at(-1)!.payload.seq;
    }
    const snapshot = snapshotPayloads(state, issuer, seq, issuedAt);
    const whole = snapshot.length === 1;
    // A list in parts goes out whole only when asked for (or as an issuer's first push): every part, to every gate.
    if (whole || changes.snapshot || held === 0) messages.push(...snapshot.map((payload) => ({ payload, retain: whole })));
    const clearedRetained = !whole && state.counter(retainedCounter(issuer)) === 1;
    state.setCounter(retainedCounter(issuer), whole ? 1 : 0);
    state.setDenySeq(issuer, seq);
    for (const message of messages) state.queue(topics.denyList(issuer), signFleetMessage(key, { ...message.payload }, 'denylist'), message.retain);
    // An empty retained message removes the one the broker holds.
    if (clearedRetained) state.queue(topics.denyList(issuer), new Uint8Array(), true);
    return { seq, messages, retainedSnapshot: whole, clearedRetained, ...outcome };
  });
}
