import type { DriverRegistry } from './boardBuilder.js';
import { startGate, type RunningGate } from './daemon.js';
import { SystemdNotifier } from './systemdNotify.js';
import { Watchdog, type Fitness } from './watchdog.js';

/** Devices without which the gate must not pretend to serve: a restart is the remedy systemd can offer. */
const ESSENTIAL_DEVICES = ['barrier'];

/**
 * A failing journal is not a reason: a restart cannot free a full or mend a
 * read-only card, and the running gate refuses with journal-unavailable,
 * alarms the fleet and sees the journal back by itself (gate.ts).
 */
function fitness(running: RunningGate): Fitness {
  const health = running.gate.deviceHealth();
  for (const device of ESSENTIAL_DEVICES) {
    const report = health[device];
    if (report && !report.healthy) return { fit: false, why: `${device}: ${report.detail}` };
  }
  return { fit: true };
}

/**
 * `citygate run`: serve until SIGTERM or SIGINT, then stop cleanly; resolves
 * with the exit status. Under systemd (Type=notify) it reports READY once the
 * board, journal and deny list are up, feeds the watchdog while fit, and says
 * STOPPING on the way out.
 */
export async function runCommand(options: { config: string }, registry: DriverRegistry): Promise<number> {
  const running = await startGate(options.config, registry);
  const notifier = SystemdNotifier.fromEnv();
  const watchdogMs = SystemdNotifier.watchdogMs();
  const watchdog = notifier && watchdogMs ? new Watchdog(notifier, watchdogMs, () => fitness(running), running.log) : undefined;
  notifier?.send(`READY=1\nSTATUS=serving as ${running.config.gate.gateId}\nMAINPID=${process.pid}`);
  watchdog?.start();
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      running.log.info({ signal }, 'stopping');
      watchdog?.stop();
      notifier?.send('STOPPING=1');
      running.stop().then(
        () => {
          notifier?.close();
          resolve(0);
        },
        (error: unknown) => {
          running.log.error({ err: (error as Error).message }, 'stop failed');
          // The open notify socket would keep the process alive until systemd kills it.
          notifier?.close();
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
