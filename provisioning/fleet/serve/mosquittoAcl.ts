import { topics } from '../../../src/core/sync/topics.js';

/** Who the broker lets in, by the username it maps from each client certificate's CN (`use_identity_as_username`). */
export interface AclRoles {
  gates: readonly { id: string; site: string }[];
  /** Fleet ops: the tools and `fleet serve`. */
  fleetOps: readonly string[];
  collectors: readonly string[];
}

/** A username mosquitto's line-based file can carry: printable ASCII, no space (a newline would smuggle in a rule). */
export function aclNameProblem(name: string): string | undefined {
  return /^[\x21-\x7e]{1,256}$/.test(name) ? undefined : 'not usable as a broker username in an ACL file (printable ASCII without spaces, 1 to 256 characters)';
}

/**
 * The per-gate ACL (docs/fleet-tools.md, "Per-gate topic ACLs") in
 * mosquitto's `acl_file` format. Each gate gets its own rules, written with
 * the topic functions of the gate's own code (src/core/sync/topics.ts), so a
 * gate id or site that needs encoding in a topic level is written as the
 * gate spells it: a gate publishes its own status (and reads it back), taps,
 * resync requests and command results, and its site's used tickets; it reads
 * its own acks and commands, the deny lists, trust and revocation lists and
 * its site's used tickets. A gate not named gets nothing. Fleet ops publish
 * the signed lists and commands and read the gates' status, resync requests,
 * command results and taps (read-only, for the dashboard's counts); the
 * collectors read taps and write acks.
 */
export function mosquittoAcl(roles: AclRoles, header: readonly string[] = []): string {
  const lines = header.map((line) => `# ${line}`);
  for (const gate of [...roles.gates].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    lines.push(
      '',
      `user ${gate.id}`,
      `topic readwrite ${topics.status(gate.id)}`,
      `topic write ${topics.taps(gate.id)}`,
      `topic write ${topics.resync(gate.id)}`,
      `topic write ${topics.cmdResult(gate.id)}`,
      `topic read ${topics.tapsAck(gate.id)}`,
      `topic read ${topics.cmd(gate.id)}`,
      `topic read ${topics.denyListAll}`,
      `topic read ${topics.trust}`,
      `topic read ${topics.revocations}`,
      `topic readwrite ${topics.siteUsed(gate.site)}`,
    );
  }
  for (const user of roles.fleetOps) {
    lines.push(
      '',
      `user ${user}`,
      `topic write ${topics.denyListAll}`,
      `topic write ${topics.trust}`,
      `topic write ${topics.revocations}`,
      `topic write ${topics.cmd('+')}`,
      `topic read ${topics.status('+')}`,
      `topic read ${topics.resync('+')}`,
      `topic read ${topics.cmdResult('+')}`,
      `topic read ${topics.taps('+')}`,
    );
  }
  for (const user of roles.collectors) lines.push('', `user ${user}`, `topic read ${topics.taps('+')}`, `topic write ${topics.tapsAck('+')}`);
  return `${lines.join('\n')}\n`;
}
