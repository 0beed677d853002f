import { z } from 'zod';
import type { TrustStore } from '../credentials/trustList.js';
import { MODES } from '../settings.js';
import { FleetMessageError, openFleetMessage, type FleetAt } from './fleetMessage.js';

const nonce = z.union([z.string().min(8).max(128), z.instanceof(Uint8Array).refine((b) => b.length >= 8 && b.length <= 64, 'nonce of 8 to 64 bytes')]);
const common = { gate: z.string().min(1), nonce, exp: z.number().int().positive(), iat: z.number().int().positive().optional() };

const commandPayload = z.discriminatedUnion('type', [
  z.object({ type: z.literal('open'), ...common }),
  z.object({ type: z.literal('set-mode'), mode: z.enum(MODES), ...common }),
  z.object({ type: z.literal('resync'), issuer: z.string().min(1).optional(), ...common }),
  z.object({ type: z.literal('reload-trust'), ...common }),
  z.object({ type: z.literal('emergency'), ...common }),
  z.object({ type: z.literal('emergency-release'), ...common }),
]);

type Payload = z.infer<typeof commandPayload>;
export type FleetCommand = Payload extends infer C ? (C extends Payload ? Omit<C, 'nonce'> & { nonce: string } : never) : never;

/**
 * A command from `citygate/v1/gates/{gate}/cmd`, signature verified and signed
 * as a command (typ `citygate-command`); gate, nonce and expiry by the gate's
 * clock are the handler's to check. With an untrusted clock (FleetTime), a
 * command that had expired by the last trusted time (with `skewSec`) is
 * refused `expired` here: the clock may have been set back to before it.
 */
export function openFleetCommand(bytes: Uint8Array, trust: TrustStore, at: FleetAt, skewSec = 0): FleetCommand {
  const command = openFleetMessage(bytes, trust, at, 'command', commandPayload, 'command');
  if (typeof at !== 'number' && !at.trusted && at.lastTrustedSec !== undefined && at.lastTrustedSec >= command.exp + skewSec) {
    throw new FleetMessageError('expired', `command ${command.type}: expired at ${command.exp}, before the last trusted time ${at.lastTrustedSec} (clock untrusted)`);
  }
  const text = typeof command.nonce === 'string' ? command.nonce : Buffer.from(command.nonce).toString('hex');
  return { ...command, nonce: text };
}
