import { createConnection, createServer, type Socket } from 'node:net';

/** A TCP relay on a free loopback port to `targetPort`, counting the connections made through it. */
export interface CountingProxy {
  port: number;
  connections(): number;
  close(): Promise<void>;
}

/**
 * Stands between a client and a broker to count its connection attempts
 * (each TCP connection is one attempt), without looking inside: TLS passes
 * through untouched.
 */
export function countingProxy(targetPort: number): Promise<CountingProxy> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    count++;
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address !== 'object' || !address) return reject(new Error('no port'));
      resolve({
        port: address.port,
        connections: () => count,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
