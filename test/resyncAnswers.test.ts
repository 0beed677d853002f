import { describe, expect, it } from 'vitest';
import { ResyncAnswers, type AnswerCause, type ListMessage, type ListSource } from '../provisioning/fleet/serve/resyncAnswers.js';
import { RecordingLog } from '../sim/recordingLog.js';
import { waitFor } from './support/waitFor.js';

/*
 * The coalescing of `fleet serve`'s answers to lagging gates, for any list
 * (a deny list by issuer, the trust or revocation list by name): one send
 * answers every gate that asked meanwhile. A small interval keeps the tests
 * short; they wait for what was sent, never for a time.
 */

/** Lists held at a seq each; a list's message is one retained message on the topic of its name, its payload the seq. */
class Lists implements ListSource {
  readonly seqs = new Map<string, number>();
  /** Called after the messages are read: a tool committing a new seq before they go out. */
  afterRead: (list: string) => void = () => {};

  held(list: string): number {
    return this.seqs.get(list) ?? 0;
  }

  messages(list: string): { seq: number; parts: ListMessage[] } | undefined {
    const seq = this.held(list);
    if (seq === 0) return undefined;
    this.afterRead(list);
    return { seq, parts: [{ topic: list, payload: Uint8Array.of(seq), retain: true }] };
  }
}

function answering(source: Lists, publish: (message: ListMessage) => Promise<void> = async () => {}) {
  const published: ListMessage[] = [];
  const sent: { list: string; seq: number; causes: Map<string, AnswerCause> }[] = [];
  const failed: { list: string; causes: Map<string, AnswerCause> }[] = [];
  const log = new RecordingLog();
  const answers = new ResyncAnswers({
    source,
    publish: async (message) => {
      await publish(message);
      published.push(message);
    },
    log,
    what: (list) => `${list} list`,
    field: 'list',
    onSent: (list, seq, causes) => sent.push({ list, seq, causes }),
    onFailed: (list, causes) => failed.push({ list, causes }),
    minIntervalMs: 10,
  });
  return { answers, published, sent, failed, log };
}

describe('ResyncAnswers', () => {
  it('sends a list once for a thousand gates that lag on it, and each list on its own', async () => {
    const source = new Lists();
    source.seqs.set('trust', 3).set('revocations', 5);
    const { answers, published, sent } = answering(source);
    for (let i = 0; i < 1000; i++) answers.ask('trust', `G-${i}`, 'status');
    answers.ask('revocations', 'G-0', 'status');
    await waitFor(() => sent.length === 2, 'both lists sent');
    expect(published.map((message) => [message.topic, message.payload[0]]).sort()).toEqual([
      ['revocations', 5],
      ['trust', 3],
    ]);
    const trust = sent.find((send) => send.list === 'trust')!;
    expect(trust.causes.size).toBe(1000);
    expect(trust.causes.get('G-999')).toBe('status');
    answers.stop();
  });

  it('answers a gate that asks while the list goes out with the next send', async () => {
    const source = new Lists();
    source.seqs.set('trust', 1);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let publishing = false;
    const { answers, sent } = answering(source, () => {
      publishing = true;
      return held;
    });
    answers.ask('trust', 'G-1', 'status');
    await waitFor(() => publishing, 'the first send under way');
    answers.ask('trust', 'G-2', 'resync');
    release();
    await waitFor(() => sent.length === 2, 'a second send');
    expect(sent.map((send) => [...send.causes.keys()])).toEqual([['G-1'], ['G-2']]);
    answers.stop();
  });

  it('does not put back a retained message older than the seq held by then', async () => {
    const source = new Lists();
    source.seqs.set('trust', 3);
    // The first read is overtaken by a push at seq 4, which carries its own retained copy.
    source.afterRead = (list) => {
      source.afterRead = () => {};
      source.seqs.set(list, 4);
    };
    const { answers, published, sent } = answering(source);
    answers.ask('trust', 'G-1', 'status');
    await waitFor(() => source.held('trust') === 4, 'the push at seq 4');
    answers.ask('trust', 'G-2', 'status');
    await waitFor(() => sent.length === 1, 'a send at the new seq');
    expect(published.map((message) => message.payload[0])).toEqual([4]);
    answers.stop();
  });

  it('logs a list it has nothing of, reports a failed publish with the gates it was for, and sends on the next ask', async () => {
    const source = new Lists();
    source.seqs.set('trust', 2);
    let fail = true;
    const { answers, sent, failed, log } = answering(source, async () => {
      if (fail) throw new Error('not connected to the broker');
    });
    answers.ask('nothing', 'G-1', 'status');
    await waitFor(() => log.has('no nothing list in this directory to send: nothing sent', { list: 'nothing', gates: ['G-1'] }), 'the warning');
    answers.ask('trust', 'G-1', 'status');
    await waitFor(() => log.has('trust list not sent; it goes out again once the service is back on the broker, or when a gate asks', { list: 'trust', err: 'not connected to the broker' }), 'the failure logged');
    expect(failed.map(({ list, causes }) => [list, [...causes]])).toEqual([['trust', [['G-1', 'status']]]]);
    expect(sent).toEqual([]);
    fail = false;
    answers.ask('trust', 'G-2', 'status');
    await waitFor(() => sent.length === 1, 'the send after the failure');
    expect([...sent[0]!.causes.keys()]).toEqual(['G-2']);
    answers.stop();
  });
});
