import { createRequire } from 'node:module';
import type { UnixDgramSocket } from 'unix-dgram';

const require = createRequire(import.meta.url);

/**
 * sd_notify(3) for `Type=notify`: READY, WATCHDOG, STOPPING and STATUS as
 * datagrams to $NOTIFY_SOCKET (Node has no unix datagram sockets of its own,
 * hence the small native unix-dgram). Without $NOTIFY_SOCKET (not under
 * systemd) every call does nothing.
 */
export class SystemdNotifier {
  private socket: UnixDgramSocket | undefined;

  private constructor(private readonly path: string) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): SystemdNotifier | undefined {
    const path = env.NOTIFY_SOCKET;
    if (!path) return undefined;
    // A leading @ is the abstract namespace: a NUL byte on the wire.
    return new SystemdNotifier(path.startsWith('@') ? `\0${path.slice(1)}` : path);
  }

  /** The watchdog interval systemd asked for (WatchdogSec), if it asked and means this process. */
  static watchdogMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
    const usec = Number(env.WATCHDOG_USEC);
    if (!Number.isFinite(usec) || usec <= 0) return undefined;
    if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== process.pid) return undefined;
    return usec / 1000;
  }

  send(state: string): void {
    if (!this.socket) {
      const unix = require('unix-dgram') as typeof import('unix-dgram');
      this.socket = unix.createSocket('unix_dgram');
      // A notify socket that went away must not take the gate down with it.
      this.socket.on('error', () => undefined);
    }
    const message = Buffer.from(state);
    this.socket.send(message, 0, message.length, this.path, () => undefined);
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}
