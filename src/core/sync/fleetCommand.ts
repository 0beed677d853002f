import { z } from 'zod';
import type { TrustStore } from '../credentials/trustList.js';
import { MODES } from '../settings.js';
import { openFleetMessage } from './fleetMessage.js';

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

/** A command from `citygate/v1/gates/{gate}/cmd`, signature verified; expiry, gate and nonce are the handler's to check. */
export function openFleetCommand(bytes: Uint8Array, trust: TrustStore, nowSec: number): FleetCommand {
  const command = openFleetMessage(bytes, trust, nowSec, commandPayload, 'command');
  const text = typeof command.nonce === 'string' ? command.nonce : Buffer.from(command.nonce).toString('hex');
  return { ...command, nonce: text };
}
