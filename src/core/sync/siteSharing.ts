import { z } from 'zod';
import type { UsedCredential } from '../gate.js';
import type { Journal } from '../journal.js';
import type { Log } from '../log.js';
import type { ReplayGuard } from '../replayGuard.js';
import type { SignedEnvelope, SiteSenderCheck, SiteSigner } from './siteSignature.js';

/** A gate shares one key per message; a burst after an outage stays far below these. */
const MAX_MESSAGE_BYTES = 64 * 1024;
const MAX_KEYS_PER_MESSAGE = 100;
/** How far ahead a shared `until` may reach: an offline code lives minutes, a ticket or issuer code up to a year. */
const CODE_UNTIL_CAP_MS = 24 * 3_600_000;
const TICKET_UNTIL_CAP_MS = 366 * 24 * 3_600_000;
/** Per sender: keys it may share at once, and how many more per second. A gate at one tap a second shares at most two. */
const SENDER_BURST = 2_000;
const SENDER_KEYS_PER_SEC = 5;
const MAX_SENDERS = 10_000;

const usedBody = z.object({
  gate: z.string().min(1).max(256),
  used: z.array(z.object({ key: z.string().min(1).max(512), until: z.number().int().positive() })).max(MAX_KEYS_PER_MESSAGE),
});
const signedEnvelope = z.object({ v: z.literal(2), body: z.string().max(MAX_MESSAGE_BYTES), cert: z.string().max(8_192), sig: z.string().max(1_024) });

/** The replay key of a code: an issuer code's `cti:<issuer>:<cti hex>`, an offline code's `code:<sha-256 of its signature, base64url>`. */
const CODE_KEY = String.raw`(?:cti:.+:[0-9a-f]*|code:[A-Za-z0-9_-]{43})`;

/**
 * The only keys a site message may write: the shapes the gate's own single-use
 * credentials produce (credentials/codeVerifier.ts, replayGuard.ts): a code's
 * key, or a ticket's use `ticket:<entries used>:<issuer, URI-encoded>:<cti hex>`
 * with the key of the code that carried it. Anything else (a fleet command's
 * `cmd:` nonce above all, or the predictable `holder:` keys of earlier
 * versions, which no gate consults any more) is refused.
 */
const SITE_KEY = new RegExp(String.raw`^(?:${CODE_KEY}|ticket:\d{1,9}:[^ :]+:[0-9a-f]+(?: ${CODE_KEY})?)$`);

/** Whether a key received from the site has a shape a ticket or code produces. */
export function isSiteShareableKey(key: string): boolean {
  return SITE_KEY.test(key);
}

/** The latest `until` a shared key may have: codes are fresh for minutes, tickets last. */
function untilCap(key: string, nowMs: number): number {
  return nowMs + (key.startsWith('code:') ? CODE_UNTIL_CAP_MS : TICKET_UNTIL_CAP_MS);
}

/** Signing of outgoing and checking of incoming messages, when the gate has a device certificate and the fleet's device CA. */
export interface SiteAuthentication {
  signer: SiteSigner;
  check: SiteSenderCheck;
}

/**
 * Single-use credentials consumed at the other gates of the site
 * (`citygate/v1/sites/{site}/used`): remembered in the replay guard and the
 * journal, so a ticket used at gate A is refused at gate B. With
 * authentication, a message counts only if the gate it names signed it, and
 * each sender has a budget of keys; without (a gate with no device
 * certificate: development), messages are taken as they come.
 */
export class SiteSharing {
  private readonly budgets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly gateId: string,
    private readonly journal: Journal,
    private readonly replay: ReplayGuard,
    private readonly now: () => number,
    private readonly log: Log,
    private readonly auth?: SiteAuthentication,
  ) {}

  outgoing(used: UsedCredential): string {
    const body = JSON.stringify({ gate: this.gateId, used: [used] });
    return this.auth ? JSON.stringify(this.auth.signer.envelope(body)) : body;
  }

  receive(payload: Buffer): void {
    if (payload.length > MAX_MESSAGE_BYTES + 16_384) {
      this.log.warn({ bytes: payload.length }, 'site used-credential message ignored: too large');
      return;
    }
    const message = this.open(payload);
    if (!message || message.gate === this.gateId) return;
    const nowMs = this.now();
    const refused = message.used.filter((used) => !isSiteShareableKey(used.key));
    if (refused.length > 0) {
      this.log.warn({ gate: message.gate, refused: refused.length, key: refused[0]!.key.slice(0, 80) }, 'site used credential refused: not a key a ticket or code makes');
    }
    const fresh = message.used
      .filter((used) => isSiteShareableKey(used.key) && used.until > nowMs && !this.replay.seen(used.key, nowMs))
      .map((used) => ({ key: used.key, until: Math.min(used.until, untilCap(used.key, nowMs)) }));
    const allowed = this.withinBudget(message.gate, fresh.length, nowMs);
    if (allowed < fresh.length) {
      this.log.warn({ gate: message.gate, dropped: fresh.length - allowed }, 'site used credentials dropped: the sender shares more than a gate can use');
    }
    const taken = fresh.slice(0, allowed);
    if (taken.length === 0) return;
    // The sender is remembered with the key, so that a refusal here says where the code was used.
    for (const used of taken) this.replay.remember(used.key, used.until, nowMs, message.gate);
    try {
      this.journal.rememberUsedMany(taken);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'site used credential kept in memory only');
    }
  }

  /** The body of a message, authenticated where the gate can; undefined (with a warning) if refused. */
  private open(payload: Buffer): z.infer<typeof usedBody> | undefined {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'site used-credential message ignored');
      return undefined;
    }
    let body: unknown = json;
    let signedBy: string | undefined;
    const envelope = signedEnvelope.safeParse(json);
    if (this.auth) {
      if (!envelope.success) {
        this.log.warn({}, 'site used-credential message ignored: not signed by a gate of the fleet');
        return undefined;
      }
      const checked = this.auth.check.check(envelope.data as SignedEnvelope);
      if (!checked.ok) {
        this.log.warn({ reason: checked.reason }, 'site used-credential message ignored: sender not authenticated');
        return undefined;
      }
      signedBy = checked.gate;
    }
    try {
      if (envelope.success) body = JSON.parse(envelope.data.body);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'site used-credential message ignored');
      return undefined;
    }
    const parsed = usedBody.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      this.log.warn({ err: `${issue.path.join('.')}: ${issue.message}` }, 'site used-credential message ignored');
      return undefined;
    }
    if (signedBy !== undefined && parsed.data.gate !== signedBy) {
      this.log.warn({ gate: parsed.data.gate, signedBy }, 'site used-credential message ignored: signed by another gate than it names');
      return undefined;
    }
    return parsed.data;
  }

  /** How many of `wanted` keys the sender may still share now (a token bucket per sender). */
  private withinBudget(sender: string, wanted: number, nowMs: number): number {
    let budget = this.budgets.get(sender);
    if (!budget) {
      if (this.budgets.size >= MAX_SENDERS) this.budgets.delete(this.budgets.keys().next().value!);
      budget = { tokens: SENDER_BURST, at: nowMs };
      this.budgets.set(sender, budget);
    }
    budget.tokens = Math.min(SENDER_BURST, budget.tokens + (Math.max(0, nowMs - budget.at) / 1000) * SENDER_KEYS_PER_SEC);
    budget.at = nowMs;
    const allowed = Math.min(wanted, Math.floor(budget.tokens));
    budget.tokens -= allowed;
    return allowed;
  }
}
