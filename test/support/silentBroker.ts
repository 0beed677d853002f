import { createServer, type Socket } from 'node:net';

/** What a client sent in its CONNECT. */
export interface SeenConnect {
  clientId: string;
  protocolLevel: number;
}

/**
 * A TCP server on a free loopback port that speaks just enough MQTT to accept
 * a CONNECT (and acknowledge a QoS 1 PUBLISH, answer PINGREQ) but never answers a SUBSCRIBE: a broker that
 * leaves a client connected and deaf. With `mqtt5: false` it refuses an MQTT 5
 * CONNECT as a 3.1.1 broker does (CONNACK 1, unacceptable protocol version).
 */
export class SilentBroker {
  readonly connects: SeenConnect[] = [];
  subscribes = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly port: number,
  ) {}

  static start(options: { mqtt5: boolean }): Promise<SilentBroker> {
    let broker: SilentBroker | undefined;
    const server = createServer((socket) => broker!.serve(socket, options.mqtt5));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        if (typeof address !== 'object' || !address) return reject(new Error('no port'));
        broker = new SilentBroker(server, address.port);
        resolve(broker);
      });
    });
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** CONNECTs from this client id. */
  connectsOf(clientId: string): SeenConnect[] {
    return this.connects.filter((c) => c.clientId === clientId);
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: Socket, mqtt5: boolean): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const packet = nextPacket(pending);
        if (!packet) return;
        pending = pending.subarray(packet.length);
        this.handle(socket, packet.first, packet.body, mqtt5);
      }
    });
  }

  private handle(socket: Socket, first: number, body: Buffer, mqtt5: boolean): void {
    const type = first >> 4;
    if (type === 1) {
      // CONNECT: protocol name (length-prefixed), level, flags, keepalive, [properties], client id.
      const nameLength = body.readUInt16BE(0);
      const level = body[2 + nameLength]!;
      let at = 2 + nameLength + 4;
      if (level === 5) {
        const properties = varint(body, at);
        at = properties.next + properties.value;
      }
      const idLength = body.readUInt16BE(at);
      this.connects.push({ clientId: body.subarray(at + 2, at + 2 + idLength).toString('utf8'), protocolLevel: level });
      if (level === 5 && !mqtt5) {
        socket.end(Buffer.from([0x20, 0x02, 0x00, 0x01]));
        return;
      }
      socket.write(level === 5 ? Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]) : Buffer.from([0x20, 0x02, 0x00, 0x00]));
    } else if (type === 3 && ((first >> 1) & 3) === 1) {
      // PUBACK with the packet id after the topic (a v5 PUBACK may end there: reason 0, no properties).
      const at = 2 + body.readUInt16BE(0);
      socket.write(Buffer.from([0x40, 0x02, body[at]!, body[at + 1]!]));
    } else if (type === 8) {
      this.subscribes++;
    } else if (type === 12) {
      socket.write(Buffer.from([0xd0, 0x00]));
    }
  }
}

function varint(buffer: Buffer, from: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  let at = from;
  for (;;) {
    const byte = buffer[at++];
    if (byte === undefined) return { value: -1, next: at };
    value += (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return { value, next: at };
    shift += 7;
  }
}

/** The first whole packet in `buffer`: its first byte (type and flags), body and length on the wire; undefined until it has all come. */
function nextPacket(buffer: Buffer): { first: number; body: Buffer; length: number } | undefined {
  if (buffer.length < 2) return undefined;
  const size = varint(buffer, 1);
  if (size.value < 0 || buffer.length < size.next + size.value) return undefined;
  return { first: buffer[0]!, body: buffer.subarray(size.next, size.next + size.value), length: size.next + size.value };
}
