import type { CardChannel } from '../../../hal/cardReader.js';
import { Refusal, refuse, type CardTrace } from '../reasons.js';
import { CARD_APPLICATIONS, DEFAULT_CARD_DEADLINE_MS, type CardApplication, type CardApplicationName, type CardCheck } from './cardApplication.js';
import { CgCardApplication } from './cgCard.js';
import type { Credential } from './credential.js';
import { DeadlineChannel } from './deadlineChannel.js';
import type { RevocationList } from './emv/revocationList.js';
import { readPpse, type DirectoryEntry } from './ppse.js';
import { QpbocApplication, type BankCardKeys } from './qpbocCard.js';
import type { TrustStore } from './trustList.js';
import { TunionApplication } from './tunion/tunionCard.js';
import type { TunionSettings } from './tunion/tunionSettings.js';
import { UidApplication } from './uidCard.js';

export type { CardCheck } from './cardApplication.js';

/**
 * The card flow: one path for the gate, the simulator and `citygate card
 * read`. Payment applications are looked up in the card's PPSE directory; a
 * card without one (or without an application of this gate there) falls to
 * the CG card and, where the gate allows badges, to its UID. The whole flow
 * runs under one deadline.
 */
export class CardVerifier {
  private readonly cg: CgCardApplication;
  private readonly qpboc: QpbocApplication | undefined;
  private readonly uid = new UidApplication();
  private readonly tunion: TunionApplication | undefined;

  /**
   * `bank`: the CA keys (and token key) bank cards need; without them the gate takes no bank card.
   * `tunion`: how this gate reads T-Union purse cards; without it, it reads none.
   */
  constructor(trust: TrustStore, bank?: BankCardKeys, tunion?: TunionSettings) {
    this.cg = new CgCardApplication(trust);
    this.qpboc = bank ? new QpbocApplication(bank) : undefined;
    this.tunion = tunion ? new TunionApplication(tunion) : undefined;
  }

  setTrust(trust: TrustStore): void {
    this.cg.setTrust(trust);
  }

  setRevocations(list: RevocationList): void {
    this.qpboc?.setRevocations(list);
  }

  async verify(channel: CardChannel, check: CardCheck): Promise<Credential> {
    const card = new DeadlineChannel(channel, check.deadlineMs ?? DEFAULT_CARD_DEADLINE_MS);
    const applications = this.enabled(check);
    // The PPSE is asked for once, and only when the gate's order reaches a payment application.
    let directory: DirectoryEntry[] | undefined;
    const tried: string[] = [];
    for (const application of applications) {
      if (application.viaPpse) directory ??= await readPpse(card, check.apduTimeoutMs);
      const aid = application.viaPpse ? pick(directory!, application) : undefined;
      if (application.viaPpse && aid === undefined) {
        tried.push(`${application.name} (not in the card's PPSE)`);
        continue;
      }
      const credential = await traced(application, aid, () => application.read(card, check, aid));
      if (credential) return credential;
      tried.push(`${application.name} (SELECT answered 6A82: not on the card)`);
    }
    return refuse('card-not-supported', `no application this gate takes: ${tried.join(', ')}`);
  }

  private enabled(check: CardCheck): CardApplication[] {
    const byName: Record<CardApplicationName, CardApplication | undefined> = { tunion: this.tunion, qpboc: this.qpboc, cg: this.cg, uid: check.uidCards ? this.uid : undefined };
    return (check.applications ?? CARD_APPLICATIONS).map((name) => byName[name]).filter((a): a is CardApplication => a !== undefined);
  }
}

const KIND_OF: Record<CardApplicationName, CardTrace['kind']> = { tunion: 'tunion', qpboc: 'emv', cg: 'card', uid: 'uid' };

/** A refusal from inside an application says which one it was. */
async function traced<T>(application: CardApplication, aid: Uint8Array | undefined, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof Refusal) {
      error.card = { kind: KIND_OF[application.name], ...(aid ? { application: Buffer.from(aid).toString('hex').toUpperCase() } : {}), ...error.card };
    }
    throw error;
  }
}

function pick(directory: readonly DirectoryEntry[], application: CardApplication): Uint8Array | undefined {
  return directory.find((entry) => application.matches(entry.aid))?.aid;
}
