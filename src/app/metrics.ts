import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DenyListStore } from '../core/denylist/denyListStore.js';
import type { Gate } from '../core/gate.js';
import type { Journal } from '../core/journal.js';
import type { Log } from '../core/log.js';
import { InputError } from './settingsSchema.js';

/** Latency buckets (seconds) around the gate's budget: most decisions take about a millisecond. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];

/**
 * Prometheus metrics on 127.0.0.1 (`/metrics`): taps by result and reason,
 * decision latency, journal backlog, deny-list seq per issuer, device health.
 */
export class GateMetrics {
  readonly registry = new Registry();
  private server: Server | undefined;

  constructor(parts: { gate: Gate; journal: Journal; denyList: DenyListStore }) {
    const { gate, journal, denyList } = parts;
    const taps = new Counter({ name: 'citygate_taps_total', help: 'Taps journaled, by result and reason', labelNames: ['result', 'reason'], registers: [this.registry] });
    const latency = new Histogram({ name: 'citygate_decision_latency_seconds', help: 'From presentation to the barrier command or refusal', buckets: LATENCY_BUCKETS, registers: [this.registry] });
    const unjournaled = new Counter({ name: 'citygate_unjournaled_total', help: 'Presentations refused because the journal failed', registers: [this.registry] });
    const alarms = new Counter({ name: 'citygate_alarms_total', help: 'Alarms raised, by type', labelNames: ['type'], registers: [this.registry] });
    new Gauge({ name: 'citygate_journal_backlog', help: 'Taps not yet acknowledged by the fleet', registers: [this.registry], collect() { this.set(journal.backlog()); } });
    new Gauge({ name: 'citygate_journal_last_seq', help: 'Seq of the newest tap', registers: [this.registry], collect() { this.set(journal.lastTapSeq()); } });
    new Gauge({
      name: 'citygate_denylist_seq',
      help: 'Deny-list seq held, by issuer',
      labelNames: ['issuer'],
      registers: [this.registry],
      collect() {
        for (const [issuer, seq] of Object.entries(denyList.seqs())) this.set({ issuer }, seq);
      },
    });
    new Gauge({
      name: 'citygate_device_healthy',
      help: '1 if the device last reported healthy',
      labelNames: ['device'],
      registers: [this.registry],
      collect() {
        for (const [device, health] of Object.entries(gate.deviceHealth())) this.set({ device }, health.healthy ? 1 : 0);
      },
    });
    new Gauge({ name: 'citygate_emergency', help: '1 while the barrier is held open for evacuation', registers: [this.registry], collect() { this.set(gate.emergency() ? 1 : 0); } });
    new Gauge({ name: 'citygate_emergency_passages', help: 'Passages counted during emergency releases since start', registers: [this.registry], collect() { this.set(gate.emergencyPassages()); } });
    new Gauge({ name: 'citygate_journal_working', help: '1 while journal commits succeed', registers: [this.registry], collect() { this.set(gate.journalWorking() ? 1 : 0); } });
    new Gauge({ name: 'citygate_purse_pending', help: 'T-Union purchases torn after DEBIT, not settled yet (the PSAM is device psam)', registers: [this.registry], collect() { this.set(journal.pendingPurchases().length); } });
    gate.onOutcome((outcome) => {
      if (outcome.type === 'tap') {
        taps.inc({ result: outcome.tap.result, reason: outcome.tap.reason });
        latency.observe(outcome.tap.latencyMs / 1000);
      } else if (outcome.type === 'unjournaled') {
        unjournaled.inc();
      }
    });
    gate.onAlarm((alarm) => alarms.inc({ type: alarm.type }));
  }

  /** Serve `/metrics`; resolves once listening (port 0 picks a free one: see `port()`). */
  listen(host: string, port: number, log: Log): Promise<void> {
    const server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url !== '/metrics') {
        response.writeHead(404).end('try /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500).end(`${(error as Error).message}\n`),
      );
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        this.server = undefined;
        // A second gate on one host, or any program on the port: say which port and which setting moves it.
        const why = error.code === 'EADDRINUSE' ? 'is in use by another gate or program on this host' : `cannot be listened on (${error.code ?? error.message})`;
        reject(new InputError(`metrics.port: ${host}:${port} ${why}: set another metrics.port in the config (0 takes any free port)`));
      });
      server.listen(port, host, () => {
        log.info({ host, port: this.port() }, 'metrics listening');
        resolve();
      });
    });
  }

  port(): number | undefined {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : undefined;
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
