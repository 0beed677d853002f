import type { KeptList } from '../keptMessages.js';
import type { GateEntry } from './gateRegistry.js';
import type { TapSeries } from './tapRate.js';

/** Where the gates stand on one issuer's deny list. */
export interface IssuerView {
  issuer: string;
  /** The seq the fleet holds (fleet-state.db). */
  seq: number;
  /** Online gates at that seq, below it, above it (the directory is behind: a restored backup?). */
  current: number;
  lagging: number;
  ahead: number;
  /** Snapshots the service sent for it since it started. */
  snapshotsSent: number;
}

/** What the dashboard shows and `/api/fleet` returns: the registry, the deny lists, the tap rate. */
export interface FleetView {
  /** The service's clock (ISO 8601). */
  at: string;
  broker: { url: string; connected: boolean };
  gates: GateEntry[];
  issuers: IssuerView[];
  /** Trust-list and revocation-list seqs the fleet published last (0: never). */
  trustListSeq: number;
  revocationSeq: number;
  /** When the revocation list kept runs out (ISO 8601; null: none kept): past it, gates that connect get none. */
  revocationExp: string | null;
  /** Times the service sent the trust and the revocation list again to lagging gates since it started. */
  listsSent: Record<KeptList, number>;
  taps: TapSeries;
}

/** Per issuer, where the online gates stand against `held`. */
export function issuerViews(held: Map<string, number>, gates: readonly GateEntry[], sent: ReadonlyMap<string, number>): IssuerView[] {
  return [...held].map(([issuer, seq]) => {
    const view: IssuerView = { issuer, seq, current: 0, lagging: 0, ahead: 0, snapshotsSent: sent.get(issuer) ?? 0 };
    for (const gate of gates) {
      if (!gate.status?.online) continue;
      const have = gate.status.denyList[issuer] ?? 0;
      if (have === seq) view.current++;
      else if (have < seq) view.lagging++;
      else view.ahead++;
    }
    return view;
  });
}
