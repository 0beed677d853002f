import { mosquittoAcl } from '../../provisioning/fleet/serve/mosquittoAcl.js';

/**
 * The per-gate ACL of docs/fleet-tools.md in mosquitto's `acl_file` format,
 * for a broker where each client's username is its certificate's CN
 * (`use_identity_as_username`): the one `citygate fleet acl` writes, so the
 * tests run against the ACL fleet ops deploy. Each gate named reaches only
 * its own topics, its site's `used`, and what every gate reads (and its own
 * status, which the test harness watches there); fleet ops and the collector
 * have their own rights; any other client gets nothing.
 */
export function perGateAcl(roles: { fleetOps: string; collector: string; gates: { id: string; site: string }[] }): string {
  return mosquittoAcl({ gates: roles.gates, fleetOps: [roles.fleetOps], collectors: [roles.collector] });
}
