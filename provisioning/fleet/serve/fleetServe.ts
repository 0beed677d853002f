import pino from 'pino';
import type { Log } from '../../../src/core/log.js';
import { InputError } from '../../../src/app/settingsSchema.js';
import { brokerConnection, type BrokerFlags } from '../brokerConnection.js';
import { loadFleetKey } from '../fleetKey.js';
import { DashboardServer, DEFAULT_HTTP, parseHttpAddress } from './dashboardServer.js';
import { FleetService } from './fleetService.js';
import type { FleetView } from './fleetView.js';
import { ServeMetrics } from './serveMetrics.js';

export interface FleetServeOptions extends BrokerFlags {
  dir: string;
  /** HOST:PORT of the dashboard and metrics; default 127.0.0.1:9480. */
  http?: string | undefined;
  clientId?: string | undefined;
  /** false (`--no-taps`): do not read tap batches; the chart stays empty. */
  taps?: boolean | undefined;
  /** Stops the service (SIGINT/SIGTERM on the command line, systemd's stop). */
  signal: AbortSignal;
  /** Told the dashboard's address once it listens (the tests take port 0). */
  onListening?: (url: string) => void;
  /** Where log lines go; JSON lines on standard error by default. */
  log?: Log;
  /** How long a gate's status may show it behind before the service sends the list (default 2 s). */
  lagGraceMs?: number;
}

/**
 * `citygate fleet serve`: the fleet service (docs/fleet-tools.md): registry,
 * resync answers, tap counts, the dashboard and /metrics, until stopped.
 * Logs are JSON lines (pino) on standard error, as the collector's.
 */
export async function fleetServe(options: FleetServeOptions): Promise<number> {
  const broker = brokerConnection(options);
  if (!broker) throw new InputError('give --broker URL (or --config FILE naming it)');
  const http = options.http === undefined ? DEFAULT_HTTP : parseHttpAddress(options.http);
  const key = loadFleetKey(options.dir);
  const log = options.log ?? pino({ name: 'fleet-serve' }, pino.destination(2));
  let dashboard: DashboardServer | undefined;
  const metrics: ServeMetrics = new ServeMetrics((): FleetView => service.view());
  const service: FleetService = new FleetService({ dir: options.dir, key, broker, clientId: options.clientId ?? 'citygate-fleet-serve', log, events: metrics.events, countTaps: options.taps ?? true, ...(options.lagGraceMs === undefined ? {} : { lagGraceMs: options.lagGraceMs }) });
  service.changes.on('change', () => dashboard?.changed());
  try {
    dashboard = new DashboardServer(() => service.view(), metrics.registry);
    await dashboard.listen(http.host, http.port);
    const url = `http://${http.host.includes(':') ? `[${http.host}]` : http.host}:${dashboard.port()}/`;
    log.info({ dashboard: url, metrics: `${url}metrics`, broker: broker.shown, dir: options.dir }, 'fleet service listening');
    options.onListening?.(url);
    await Promise.race([service.start(), aborted(options.signal)]);
    await aborted(options.signal);
    log.info({}, 'stopping');
    return 0;
  } finally {
    await dashboard?.close();
    await service.stop();
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
