import { connect, createServer, type Server, type Socket } from 'node:net';

/** How the network behaves while it is down: connections reset at once, or silently swallowed until it is back. */
export type Outage = 'refuse' | 'blackhole';

interface Pair {
  client: Socket;
  broker: Socket;
  /** Bytes from the broker: above 0 once it answered CONNECT, so the client had a session. */
  fromBroker: number;
}

export interface RelayCounts {
  accepted: number;
  /** Connections destroyed by cuts, and those of them the broker had answered. */
  cut: number;
  cutLive: number;
  /** Attempts while down: reset at once, or held and dropped. */
  refused: number;
  swallowed: number;
}

/**
 * A TCP hop on 127.0.0.1 in front of the broker, standing for the network
 * between a gate (or the collector) and the broker: it can cut every
 * connection at once and stay down for a while, refusing or swallowing new
 * ones, as a lost mobile link does.
 */
export class TcpRelay {
  private readonly pairs = new Set<Pair>();
  private readonly held = new Set<Socket>();
  private down: Outage | undefined;
  readonly counts: RelayCounts = { accepted: 0, cut: 0, cutLive: 0, refused: 0, swallowed: 0 };

  private constructor(
    private readonly server: Server,
    private readonly targetPort: number,
    private readonly uplinkBytesPerSec: number | undefined,
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  /** `uplinkBytesPerSec`: a slow link from the client to the broker (a gate's mobile uplink); absent: as fast as loopback. */
  static async start(targetPort: number, uplinkBytesPerSec?: number): Promise<TcpRelay> {
    const relay = new TcpRelay(createServer(), targetPort, uplinkBytesPerSec);
    await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get url(): string {
    const address = this.server.address();
    if (typeof address !== 'object' || !address) throw new Error('relay not listening');
    return `mqtt://127.0.0.1:${address.port}`;
  }

  isDown(): boolean {
    return this.down !== undefined;
  }

  /** Connections the broker has answered: clients with a session through this hop now. */
  liveConnections(): number {
    return [...this.pairs].filter((pair) => pair.fromBroker > 0).length;
  }

  /** Destroy every connection and stay down until `restore()`. Returns how many live (answered) connections were cut. */
  cut(how: Outage): number {
    this.down = how;
    let live = 0;
    for (const pair of this.pairs) {
      this.counts.cut++;
      if (pair.fromBroker > 0) live++;
      pair.client.destroy();
      pair.broker.destroy();
    }
    this.pairs.clear();
    this.counts.cutLive += live;
    return live;
  }

  /** Back up: swallowed attempts are dropped now (their clients retry), new ones go through. */
  restore(): void {
    this.down = undefined;
    for (const socket of this.held) socket.destroy();
    this.held.clear();
  }

  /** A cut, down for `ms`, then restored. */
  async outage(ms: number, how: Outage): Promise<number> {
    const live = this.cut(how);
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.restore();
    return live;
  }

  async close(): Promise<void> {
    this.cut('refuse');
    this.restore();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.down === 'refuse') {
      this.counts.refused++;
      client.resetAndDestroy();
      return;
    }
    if (this.down === 'blackhole') {
      this.counts.swallowed++;
      this.held.add(client);
      client.on('close', () => this.held.delete(client));
      return;
    }
    this.counts.accepted++;
    const broker = connect(this.targetPort, '127.0.0.1');
    broker.on('error', () => undefined);
    const pair: Pair = { client, broker, fromBroker: 0 };
    this.pairs.add(pair);
    broker.on('data', (chunk: Buffer) => (pair.fromBroker += chunk.length));
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      broker.destroy();
    };
    client.on('close', close);
    broker.on('close', close);
    this.uplink(client, broker);
    broker.pipe(client);
  }

  /** Client to broker, paced to the uplink's rate: each chunk holds the next one back for as long as it takes to send. */
  private uplink(client: Socket, broker: Socket): void {
    const rate = this.uplinkBytesPerSec;
    if (rate === undefined) {
      client.pipe(broker);
      return;
    }
    client.on('data', (chunk: Buffer) => {
      broker.write(chunk);
      client.pause();
      setTimeout(() => client.resume(), (chunk.length / rate) * 1000);
    });
  }
}
