import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { InputError } from '../../src/app/settingsSchema.js';
import { MODES } from '../../src/core/settings.js';
import { topics, topicSafe } from '../../src/core/sync/topics.js';
import { BrokerError, connectFleetClient } from './broker.js';
import { brokerConnection, type BrokerFlags } from './brokerConnection.js';
import { COMMAND_TYPES } from './commandTypes.js';
import { processOutput, type Output } from './delivery.js';
import { loadFleetKey } from './fleetKey.js';
import { signFleetMessage } from './fleetSigner.js';


export interface FleetCmdOptions extends BrokerFlags {
  dir: string;
  gate: string;
  type: string;
  /** For set-mode. */
  mode?: string | undefined;
  /** For resync: one issuer; all when absent. */
  issuer?: string | undefined;
  /** Seconds the command stays valid (its exp). */
  ttl?: number | undefined;
  /** Seconds to wait for the gate's result. */
  wait?: number | undefined;
}

const resultSchema = z.looseObject({ nonce: z.string(), type: z.string(), result: z.enum(['done', 'refused']), reason: z.string().optional() });
type CommandResult = z.infer<typeof resultSchema>;

function commandPayload(options: FleetCmdOptions, nonce: string, nowSec: number): Record<string, unknown> {
  if (!(COMMAND_TYPES as readonly string[]).includes(options.type)) throw new InputError(`unknown command ${JSON.stringify(options.type)}: expected ${COMMAND_TYPES.join(', ')}`);
  if (!topicSafe(options.gate)) throw new InputError(`--gate ${JSON.stringify(options.gate)} is not a gate id (no / + #)`);
  const ttl = options.ttl ?? 60;
  if (!Number.isInteger(ttl) || ttl <= 0) throw new InputError(`--ttl ${String(options.ttl)}: the command's lifetime must be a positive whole number of seconds (e.g. --ttl 60)`);
  const payload: Record<string, unknown> = { type: options.type, gate: options.gate, nonce, iat: nowSec, exp: nowSec + ttl };
  if (options.type === 'set-mode') {
    if (options.mode === undefined || options.mode === '') throw new InputError(`set-mode needs a mode: one of ${MODES.join(', ')}`);
    if (!(MODES as readonly string[]).includes(options.mode)) throw new InputError(`set-mode ${JSON.stringify(options.mode)} is not a gate mode: one of ${MODES.join(', ')}`);
    payload.mode = options.mode;
  } else if (options.mode !== undefined) {
    throw new InputError(`${options.type} takes no mode (got ${JSON.stringify(options.mode)})`);
  }
  if (options.issuer !== undefined) {
    if (options.type !== 'resync') throw new InputError('--issuer goes with resync only');
    if (!topicSafe(options.issuer)) throw new InputError(`--issuer ${JSON.stringify(options.issuer)} is not an issuer id`);
    payload.issuer = options.issuer;
  }
  return payload;
}

/**
 * `citygate fleet cmd`: sign a command with a fresh nonce, publish it to the
 * gate and wait for its result. Exit 0 when done, 1 when refused, 2 on timeout.
 */
export async function fleetCmd(options: FleetCmdOptions, output: Output = processOutput): Promise<number> {
  const broker = brokerConnection(options);
  if (!broker) throw new InputError('give --broker URL (or --config FILE naming it)');
  const waitSec = options.wait ?? 10;
  if (!(waitSec > 0)) throw new InputError(`--wait ${String(options.wait)}: must be a positive number of seconds`);
  const nonce = randomBytes(16).toString('base64url');
  const payload = commandPayload(options, nonce, Math.floor(Date.now() / 1000));
  const key = loadFleetKey(options.dir);
  const message = signFleetMessage(key, payload, 'command');

  let client;
  try {
    client = await connectFleetClient(broker, waitSec * 1000);
  } catch (error) {
    if (!(error instanceof BrokerError)) throw error;
    output.err(`citygate: ${error.message}`);
    return 2;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = new Promise<CommandResult | undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), waitSec * 1000);
      client.on('message', (_topic, body) => {
        let parsed;
        try {
          parsed = resultSchema.safeParse(JSON.parse(body.toString('utf8')));
        } catch {
          return;
        }
        // Results of other commands to the same gate go by.
        if (parsed.success && parsed.data.nonce === nonce) resolve(parsed.data);
      });
    });
    const sent = (async () => {
      await client.subscribeAsync(topics.cmdResult(options.gate), { qos: 1 });
      await client.publishAsync(topics.cmd(options.gate), Buffer.from(message), { qos: 1 });
      return result;
    })();
    // A broker that stops answering mid-way must not hold the command past --wait.
    let answer: CommandResult | undefined;
    try {
      answer = await Promise.race([sent, result]);
    } catch (error) {
      output.err(`citygate: broker ${broker.shown}: ${(error as Error).message}`);
      return 2;
    }
    if (!answer) {
      output.err(`citygate: no result from gate ${options.gate} within ${waitSec} s (command ${options.type}, nonce ${nonce}); it expires at ${String(payload.exp)}`);
      return 2;
    }
    output.out(JSON.stringify(answer));
    return answer.result === 'done' ? 0 : 1;
  } finally {
    clearTimeout(timer);
    client.end(true);
  }
}
