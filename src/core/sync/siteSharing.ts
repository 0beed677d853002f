import { z } from 'zod';
import type { UsedCredential } from '../gate.js';
import type { Journal } from '../journal.js';
import type { Log } from '../log.js';
import type { ReplayGuard } from '../replayGuard.js';

const usedMessage = z.object({
  gate: z.string().min(1),
  used: z.array(z.object({ key: z.string().min(1).max(512), until: z.number().int().positive() })).max(1000),
});

/** The replay key of a code: an issuer code's `cti:<issuer>:<cti hex>`, an offline code's `code:<sha-256, base64url>` (or `holder:…`, below). */
const CODE_KEY = String.raw`(?:cti:.+:[0-9a-f]*|code:[A-Za-z0-9_-]{43}|holder:.+:\d+(?:\.\d+)?:\d+)`;

/**
 * The only keys a site message may write: the shapes the gate's own single-use
 * credentials produce (credentials/codeVerifier.ts, replayGuard.ts): a code's
 * key, or a ticket's use `ticket:<entries used>:<issuer, URI-encoded>:<cti hex>`
 * with the key of the code that carried it. `holder:<issuer>:<subject>:<iat>:<counter>`
 * is the offline-code key of earlier versions, still shared by gates not yet
 * upgraded. Anything else (a fleet command's `cmd:` nonce above all) is refused.
 */
const SITE_KEY = new RegExp(String.raw`^(?:${CODE_KEY}|ticket:\d{1,9}:[^ :]+:[0-9a-f]+(?: ${CODE_KEY})?)$`);

/** Whether a key received from the site has a shape a ticket or code produces. */
export function isSiteShareableKey(key: string): boolean {
  return SITE_KEY.test(key);
}

/**
 * Single-use credentials consumed at the other gates of the site
 * (`citygate/v1/sites/{site}/used`): remembered in the replay guard and the
 * journal, so a ticket used at gate A is refused at gate B.
 */
export class SiteSharing {
  constructor(
    private readonly gateId: string,
    private readonly journal: Journal,
    private readonly replay: ReplayGuard,
    private readonly now: () => number,
    private readonly log: Log,
  ) {}

  outgoing(used: UsedCredential): string {
    return JSON.stringify({ gate: this.gateId, used: [used] });
  }

  receive(payload: Buffer): void {
    let message: z.infer<typeof usedMessage>;
    try {
      const parsed = usedMessage.safeParse(JSON.parse(payload.toString('utf8')));
      if (!parsed.success) throw new Error(`${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
      message = parsed.data;
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'site used-credential message ignored');
      return;
    }
    if (message.gate === this.gateId) return;
    const nowMs = this.now();
    const refused = message.used.filter((used) => !isSiteShareableKey(used.key));
    if (refused.length > 0) {
      this.log.warn({ gate: message.gate, refused: refused.length, key: refused[0]!.key.slice(0, 80) }, 'site used credential refused: not a key a ticket or code makes');
    }
    for (const used of message.used) {
      if (!isSiteShareableKey(used.key) || used.until <= nowMs || this.replay.seen(used.key, nowMs)) continue;
      this.replay.remember(used.key, used.until, nowMs);
      try {
        this.journal.rememberUsed(used.key, used.until);
      } catch (error) {
        this.log.warn({ err: (error as Error).message }, 'site used credential kept in memory only');
      }
    }
  }
}
