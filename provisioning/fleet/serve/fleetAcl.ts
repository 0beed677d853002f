import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../../src/app/settingsSchema.js';
import { topicSafe } from '../../../src/core/sync/topics.js';
import { writeFileAtomic } from '../../../src/app/trustFile.js';
import { processOutput, type Output } from '../delivery.js';
import { GateRegistry, REGISTRY_FILE } from './gateRegistry.js';
import { aclNameProblem, mosquittoAcl } from './mosquittoAcl.js';

export interface FleetAclOptions {
  dir: string;
  /** ID=SITE: gates to register (kept in DIR) before they first connect. */
  gate?: readonly string[] | undefined;
  fleetOps?: readonly string[] | undefined;
  collector?: readonly string[] | undefined;
  /** Write the ACL here (atomically); standard output when absent. */
  out?: string | undefined;
}

function parseGate(text: string): { id: string; site: string } {
  const at = text.indexOf('=');
  const id = text.slice(0, at);
  const site = text.slice(at + 1);
  if (at <= 0 || site.length === 0) throw new InputError(`--gate ${JSON.stringify(text)}: expected ID=SITE, e.g. G-0042=station-12`);
  if (!topicSafe(id) || !topicSafe(site)) throw new InputError(`--gate ${JSON.stringify(text)}: a gate id or site cannot contain / + #`);
  return { id, site };
}

function checkName(name: string, what: string): void {
  const problem = aclNameProblem(name);
  if (problem) throw new InputError(`${what} ${JSON.stringify(name)}: ${problem}`);
}

/**
 * `citygate fleet acl`: register the gates given with --gate in DIR's
 * registry, then write the mosquitto ACL for every gate of the registry (the
 * ones `fleet serve` has seen and the ones registered), fleet ops and the
 * collectors. A gate's site is the one it was registered with; a gate only
 * seen takes the site of its status, with a note (register it to pin it).
 */
export function fleetAcl(options: FleetAclOptions, output: Output = processOutput): number {
  const added = (options.gate ?? []).map(parseGate);
  const fleetOps = options.fleetOps ?? ['fleet-ops'];
  const collectors = options.collector ?? ['collector'];
  for (const name of fleetOps) checkName(name, '--fleet-ops');
  for (const name of collectors) checkName(name, '--collector');
  for (const gate of added) checkName(gate.id, '--gate');
  if (added.length === 0 && !existsSync(join(options.dir, REGISTRY_FILE))) throw new InputError(`${join(options.dir, REGISTRY_FILE)} does not exist: run "citygate fleet serve --dir ${options.dir}" to fill it from the gates' status, or give the gates with --gate ID=SITE`);
  const registry = new GateRegistry(options.dir);
  const gates: { id: string; site: string }[] = [];
  try {
    for (const gate of added) registry.register(gate.id, gate.site);
    for (const entry of registry.gates()) {
      const site = entry.registeredSite ?? entry.status?.site;
      const problem = aclNameProblem(entry.gate);
      if (problem) {
        output.err(`note: gate ${JSON.stringify(entry.gate)} left out: ${problem}`);
        continue;
      }
      if (site === undefined) {
        output.err(`note: gate ${entry.gate} left out: no site known (register it with --gate ${entry.gate}=SITE)`);
        continue;
      }
      if (!entry.registered) output.err(`note: gate ${entry.gate} takes site ${JSON.stringify(site)} from its own status; register it (--gate ${entry.gate}=SITE) so that no status can change its site`);
      else if (entry.status?.site !== undefined && entry.status.site !== site) output.err(`note: gate ${entry.gate} is registered at site ${JSON.stringify(site)} but its status says ${JSON.stringify(entry.status.site)}: the ACL keeps ${JSON.stringify(site)}`);
      gates.push({ id: entry.gate, site });
    }
  } finally {
    registry.close();
  }
  const acl = mosquittoAcl({ gates, fleetOps, collectors }, [`mosquitto acl_file written by citygate fleet acl from ${options.dir} (${gates.length} gates)`, 'usernames are the client certificates\' CNs: use_identity_as_username true']);
  if (options.out === undefined) output.out(acl.trimEnd());
  else writeFileAtomic(options.out, acl);
  output.err(`${gates.length} gate(s), ${fleetOps.length} fleet-ops user(s), ${collectors.length} collector(s)${options.out === undefined ? '' : ` written to ${options.out}; reload mosquitto (SIGHUP) to apply it`}`);
  return 0;
}
