import mqtt from 'mqtt';

export interface FirstMessage {
  /** The payload of the first message on the topic that `match` accepts. */
  payload: Promise<Buffer>;
  close(): Promise<void>;
}

/** Subscribe to `topic` (resolves once subscribed) and catch the first message `match` accepts: a trigger on what the broker routes. */
export async function firstMessage(url: string, topic: string, match: (payload: Buffer) => boolean = () => true): Promise<FirstMessage> {
  const client = await mqtt.connectAsync(url, { clientId: `watch-${process.pid}-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  client.on('error', () => undefined);
  const payload = new Promise<Buffer>((resolve) => {
    client.on('message', (_topic, body) => {
      if (match(body)) resolve(body);
    });
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return { payload, close: () => client.endAsync(true) };
}
