import type { SamSlot } from '../hal/samSlot.js';
import type { GateConfig } from '../src/app/config.js';
import { Psam } from '../src/core/credentials/tunion/psam.js';

/** One line of the self-test's table (selftest.ts's Check). */
export interface PsamCheck {
  name: 'psam';
  result: 'pass' | 'warn' | 'fail';
  detail: string;
}

/**
 * The PSAM as the gate will use it at start: the slot opened, the terminal id
 * read and the transport application selected; nothing is computed with it.
 * A gate taking T-Union cards without a SAM slot is a warning (it serves
 * everything else and refuses purse cards).
 */
export async function psamCheck(config: GateConfig, sam: SamSlot | undefined, settleMs: number): Promise<PsamCheck | undefined> {
  const takesPurse = config.gate.cards?.applications.includes('tunion') === true;
  if (!sam) return takesPurse ? { name: 'psam', result: 'warn', detail: 'gate.cards.applications has tunion but no devices.sam: purse cards will be refused (psam-unavailable)' } : undefined;
  const psam = new Psam(sam, Math.max(config.gate.apduTimeoutMs, 1_000));
  let last = '';
  try {
    await psam.start((_healthy, detail) => (last = detail));
    const until = Date.now() + settleMs;
    while (psam.terminalId() === undefined && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    const id = psam.terminalId();
    if (id) return { name: 'psam', result: 'pass', detail: `terminal id ${Buffer.from(id).toString('hex').toUpperCase()} in ${sam.name}` };
    return { name: 'psam', result: takesPurse ? 'fail' : 'warn', detail: psam.unavailable() ?? last };
  } finally {
    await psam.stop();
  }
}
