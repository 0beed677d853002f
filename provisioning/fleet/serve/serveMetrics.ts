import { Counter, Gauge, Registry } from 'prom-client';
import type { FleetView } from './fleetView.js';
import type { ServiceEvents } from './fleetService.js';

/**
 * Prometheus metrics of `citygate fleet serve` (`/metrics`): gates by state,
 * their summed backlog, gates with an untrusted clock or alarms, per issuer
 * the seq held and online gates current or lagging, resync requests and
 * snapshots sent, trust and revocation lists sent again, when the revocation
 * list runs out, taps counted per site. Per-gate detail is the dashboard's
 * and `/api/fleet`'s, not a label: a city's gates would be thousands of series.
 */
export class ServeMetrics {
  readonly registry = new Registry();
  readonly events: ServiceEvents;

  constructor(view: () => FleetView) {
    const registers = [this.registry];
    const statuses = new Counter({ name: 'citygate_fleet_status_messages_total', help: 'Gate status messages received, by outcome (ok or the reason refused)', labelNames: ['outcome'], registers });
    const resyncs = new Counter({ name: 'citygate_fleet_resync_requests_total', help: 'Resync requests received from gates (issuer "" for a malformed one)', labelNames: ['issuer'], registers });
    const snapshots = new Counter({ name: 'citygate_fleet_snapshots_sent_total', help: 'Whole deny lists sent to lagging gates, by issuer', labelNames: ['issuer'], registers });
    const lists = new Counter({ name: 'citygate_fleet_lists_sent_total', help: 'Trust and revocation lists sent again to lagging gates, by list (trust, revocations)', labelNames: ['list'], registers });
    const taps = new Counter({ name: 'citygate_fleet_taps_total', help: 'Taps counted from the gates\' batches (each once), by site', labelNames: ['site'], registers });
    this.events = {
      status: (refused) => statuses.inc({ outcome: refused ?? 'ok' }),
      resyncRequest: (issuer) => resyncs.inc({ issuer: issuer ?? '' }),
      snapshotSent: (issuer) => snapshots.inc({ issuer }),
      listSent: (list) => lists.inc({ list }),
      taps: (site, count) => taps.inc({ site }, count),
    };
    // One view per scrape, shared by the gauges below.
    let scraped: { at: number; view: FleetView } | undefined;
    const current = (): FleetView => {
      const now = Date.now();
      if (!scraped || now - scraped.at > 500) scraped = { at: now, view: view() };
      return scraped.view;
    };
    new Gauge({
      name: 'citygate_fleet_gates',
      help: 'Gates in the registry, by state (online, offline, never: registered but never seen)',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = { online: 0, offline: 0, never: 0 };
        for (const gate of current().gates) counts[gate.status === undefined ? 'never' : gate.status.online ? 'online' : 'offline']++;
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      },
    });
    const onlineGates = () => current().gates.flatMap((gate) => (gate.status?.online ? [gate.status] : []));
    new Gauge({ name: 'citygate_fleet_backlog_taps', help: 'Taps not yet acknowledged, summed over the online gates\' last status', registers, collect() { this.set(onlineGates().reduce((sum, status) => sum + (status.backlog ?? 0), 0)); } });
    new Gauge({ name: 'citygate_fleet_gates_clock_untrusted', help: 'Online gates whose clock is not trusted', registers, collect() { this.set(onlineGates().filter((status) => status.clockTrusted === false).length); } });
    new Gauge({ name: 'citygate_fleet_gates_alarming', help: 'Online gates whose last status lists alarms', registers, collect() { this.set(onlineGates().filter((status) => status.alarms.length > 0).length); } });
    new Gauge({ name: 'citygate_fleet_broker_connected', help: '1 while the service is connected to the broker', registers, collect() { this.set(current().broker.connected ? 1 : 0); } });
    new Gauge({
      name: 'citygate_fleet_revocation_list_expiry_timestamp_seconds',
      help: 'When the revocation list kept runs out (Unix time; absent when none is kept): sign it again before, or new gates get none',
      registers,
      collect() {
        const exp = current().revocationExp;
        this.reset();
        if (exp !== null) this.set(Date.parse(exp) / 1000);
      },
    });
    new Gauge({
      name: 'citygate_fleet_denylist_seq',
      help: 'Deny-list seq the fleet holds, by issuer',
      labelNames: ['issuer'],
      registers,
      collect() {
        for (const issuer of current().issuers) this.set({ issuer: issuer.issuer }, issuer.seq);
      },
    });
    new Gauge({
      name: 'citygate_fleet_denylist_gates',
      help: 'Online gates against the seq held, by issuer and standing (current, lagging, ahead)',
      labelNames: ['issuer', 'standing'],
      registers,
      collect() {
        for (const issuer of current().issuers) for (const standing of ['current', 'lagging', 'ahead'] as const) this.set({ issuer: issuer.issuer, standing }, issuer[standing]);
      },
    });
  }
}
