import { InputError } from '../../src/app/settingsSchema.js';
import { RESERVED_ISSUERS, trustListSchema } from '../../src/core/credentials/trustList.js';
import type { Output } from './delivery.js';
import type { FleetState } from './fleetState.js';

/** The state document holding the trust list last published (`fleet trust`). */
export const TRUST_DOCUMENT = 'trust';

/**
 * The issuers whose deny lists gates consult: those of the trust list last
 * published from this directory, and `uid` and `emv` (UID cards and bank
 * cards, which no issuer signs). Undefined when the directory never published one.
 */
export function knownIssuers(state: FleetState): string[] | undefined {
  const text = state.document(TRUST_DOCUMENT);
  if (text === undefined) return undefined;
  const parsed = trustListSchema.safeParse(JSON.parse(text));
  // The document was checked before it was kept; one that no longer reads is as good as none.
  if (!parsed.success) return undefined;
  return [...parsed.data.issuers.map((issuer) => issuer.id), ...RESERVED_ISSUERS];
}

/**
 * Refuse a deny list for an issuer the gates do not trust: it would be
 * published, kept and never consulted, a typo nobody notices. `force`
 * publishes it anyway, with a note.
 */
export function checkIssuer(state: FleetState, dir: string, issuer: string, force: boolean, output: Output): void {
  const known = knownIssuers(state);
  if (known?.includes(issuer)) return;
  const why =
    known === undefined
      ? `no trust list was published from ${dir}, so the issuer cannot be checked (publish it with: citygate fleet trust --dir ${dir} --file trust.json)`
      : `not an issuer of the trust list published from ${dir}; known: ${known.join(', ')}`;
  if (!force) throw new InputError(`--issuer ${JSON.stringify(issuer)}: ${why}. Gates consult deny lists of trusted issuers only; give --force to publish anyway`);
  output.err(`note: --issuer ${JSON.stringify(issuer)}: ${why}; publishing anyway (--force)`);
}
