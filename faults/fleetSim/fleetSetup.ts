import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrustListDocument } from '../../src/core/credentials/trustList.js';
import type { Output } from '../../provisioning/fleet/delivery.js';
import { fleetDeny } from '../../provisioning/fleet/fleetDeny.js';
import { fleetInit } from '../../provisioning/fleet/fleetInit.js';
import { loadFleetKey, publicJwkOf } from '../../provisioning/fleet/fleetKey.js';
import { TestIssuer, trustListOf } from '../../sim/issuer.js';

export const ISSUER = 'cq.yukuaima';

/** What the fleet tools printed, kept for the figures' notes rather than written over the JSON. */
export class CapturedOutput implements Output {
  readonly lines: string[] = [];
  out(line: string): void {
    this.lines.push(line);
  }
  err(line: string): void {
    this.lines.push(line);
  }
}

export interface Fleet {
  dir: string;
  issuer: TestIssuer;
  trust: TrustListDocument;
}

/** The fleet-ops directory and key (`citygate fleet init`'s code), and one test issuer that every gate trusts. */
export function makeFleet(dir: string): Fleet {
  mkdirSync(dir, { recursive: true });
  fleetInit({ dir, alg: 'EdDSA' }, new CapturedOutput());
  const issuer = new TestIssuer(ISSUER, 'EdDSA');
  return { dir, issuer, trust: trustListOf([issuer], [publicJwkOf(loadFleetKey(dir))]) };
}

/** A gate's directory as provisioning leaves it: its trust file. */
export function provisionGateDir(dir: string, trust: TrustListDocument): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'trust.json'), JSON.stringify(trust));
}

export interface PushOutcome {
  status: number;
  /** The seq every gate should hold once the push is in. */
  seq: number;
  output: string[];
}

/**
 * `citygate fleet deny --add ... --broker URL` through the fleet tools' own
 * code: plan, sign, publish, and wait (up to `waitSec`) for the online gates
 * to report the new seq. `--force`: this fleet directory never published a
 * trust list (the gates were provisioned with theirs), so the issuer cannot be
 * checked against one.
 */
export async function pushDenyList(fleet: Fleet, broker: string, add: string[], waitSec: number): Promise<PushOutcome> {
  const output = new CapturedOutput();
  const status = await fleetDeny({ dir: fleet.dir, issuer: ISSUER, add, broker, wait: waitSec, force: true }, output);
  const summary = output.lines.map((line) => parseSummary(line)).find((seq) => seq !== undefined);
  if (summary === undefined) throw new Error(`fleet deny printed no summary (exit ${status}): ${output.lines.join(' | ')}`);
  return { status, seq: summary, output: output.lines };
}

/** The `seq` of fleet deny's JSON summary line, or undefined for any other line. */
function parseSummary(line: string): number | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const seq = (JSON.parse(line) as { seq?: unknown }).seq;
    return typeof seq === 'number' ? seq : undefined;
  } catch {
    return undefined;
  }
}
