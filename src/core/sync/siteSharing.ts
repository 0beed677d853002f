import { z } from 'zod';
import type { UsedCredential } from '../gate.js';
import type { Journal } from '../journal.js';
import type { Log } from '../log.js';
import type { ReplayGuard } from '../replayGuard.js';

const usedMessage = z.object({
  gate: z.string().min(1),
  used: z.array(z.object({ key: z.string().min(1).max(512), until: z.number().int().positive() })).max(1000),
});

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
    for (const used of message.used) {
      if (used.until <= nowMs || this.replay.seen(used.key, nowMs)) continue;
      this.replay.remember(used.key, used.until, nowMs);
      try {
        this.journal.rememberUsed(used.key, used.until);
      } catch (error) {
        this.log.warn({ err: (error as Error).message }, 'site used credential kept in memory only');
      }
    }
  }
}
