import { InputError } from '../../src/app/settingsSchema.js';
import type { CoseAlg } from '../../src/core/credentials/cose.js';
import { processOutput, type Output } from './delivery.js';
import { generateFleetKey, publicJwkOf, saveFleetKey } from './fleetKey.js';

export interface FleetInitOptions {
  dir: string;
  alg?: string | undefined;
  force?: boolean | undefined;
}

/** `citygate fleet init`: make the fleet-ops key in DIR and print its public JWK for the trust list's `fleet` array. */
export function fleetInit(options: FleetInitOptions, output: Output = processOutput): number {
  const alg = options.alg ?? 'ES256';
  if (alg !== 'ES256' && alg !== 'EdDSA') throw new InputError(`--alg ${JSON.stringify(alg)}: expected ES256 or EdDSA`);
  const key = generateFleetKey(alg satisfies CoseAlg);
  const { privatePath, publicPath } = saveFleetKey(options.dir, key, options.force ?? false);
  output.err(`fleet-ops key written to ${privatePath} (keep it secret); public key in ${publicPath}: add it to the "fleet" array of the gates' trust list`);
  output.out(JSON.stringify(publicJwkOf(key)));
  return 0;
}
