/** The IPC between the rig and its gate workers (child processes it forks; nothing else writes to these channels). */

export interface GateSpec {
  id: string;
  site: string;
  dir: string;
}

/** What a gate worker is given, as a JSON file named on its command line. */
export interface WorkerConfig {
  url: string;
  gates: GateSpec[];
  issuer: { id: string; kid: string; privateKeyPem: string };
  /** Deny-list issuer whose seq the worker reports. */
  denyIssuer: string;
  /** Each gate taps at a rate drawn uniformly from this range (taps per second). */
  rate: { min: number; max: number };
  /** Spread the gates' first connections over this long. */
  startSpreadMs: number;
}

export type ToWorker = { type: 'taps'; on: boolean } | { type: 'final' } | { type: 'stop' };

export interface WorkerTick {
  type: 'tick';
  at: number;
  /** Taps committed and not yet acknowledged, summed over the worker's gates. */
  backlog: number;
  /** Gates holding at least this deny-list seq. */
  denySeqMin: number;
  /** Share of the last second the worker's event loop was busy (0..1). */
  busy: number;
}

export interface GateFinal {
  gate: string;
  lastSeq: number;
  delivered: number;
  denySeq: number;
}

export interface WorkerFinal {
  type: 'final';
  gates: GateFinal[];
  /** Per tap: ms from its commit to the gate's delivered mark covering it. */
  ackMs: number[];
  log: [string, number][];
}

export type FromWorker =
  | { type: 'started'; gates: number }
  | WorkerTick
  | { type: 'deny'; gate: string; issuer: string; seq: number; at: number }
  | WorkerFinal
  | { type: 'stopped' };
