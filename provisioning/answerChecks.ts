import { checkDevices, type DriverRegistry } from '../src/app/boardBuilder.js';
import { configSchema } from '../src/app/config.js';
import { readInputJson } from '../src/app/inputFile.js';
import { gateSettingsSchema, InputError, parseWith } from '../src/app/settingsSchema.js';
import { trustListSchema } from '../src/core/credentials/trustList.js';
import { MODES } from '../src/core/settings.js';
import { topicSafe } from '../src/core/sync/topics.js';
import type { AnswerChecks, ProvisionAnswers } from './provisionAnswers.js';
import { trustWithFleetKey } from './trustMerge.js';

/** The simulated lane of `sim/liveDrivers.ts`: codes as text lines on standard input. */
const SIM_DEVICES = {
  readers: [],
  scanners: [{ driver: 'sim', input: '-' }],
  barrier: { driver: 'sim' },
  passage: { driver: 'sim' },
  indicators: { driver: 'sim' },
  display: { driver: 'sim' },
  // A developer's machine has no RTC and may have no NTP: the simulated lane trusts its wall clock.
  clock: { driver: 'sim' },
};

/** The config's `devices` section from a devices file (or `sim`), each entry checked by its driver as the gate will. */
export function readDevices(answer: string, registry: DriverRegistry): unknown {
  const document = answer === 'sim' ? SIM_DEVICES : readInputJson(answer, 'devices file');
  checkDevices(parseWith(configSchema.shape.devices, document, answer), registry, answer);
  return document;
}

/** A gate id goes into MQTT topics and the certificate's CN: no topic separators or wildcards, no control characters. */
export function checkGateId(id: string): string | undefined {
  if (/[/+#]/.test(id)) return 'a gate id cannot hold "/", "+" or "#" (it is an MQTT topic level)';
  if (/[\u0000-\u001f\u007f]/.test(id)) return 'a gate id cannot hold control characters';
  if (id.trim() !== id) return 'a gate id cannot start or end with spaces';
  return undefined;
}

/** The issuers' trust list; a key file given in its place (the fleet key, perhaps its private half) is named as such. */
function readTrustList(path: string): unknown {
  const document = readInputJson(path, 'trust list');
  if (document !== null && typeof document === 'object' && 'kty' in document) {
    const secret = 'd' in document ? ', a PRIVATE one that never goes onto a gate' : '';
    throw new InputError(`${path} is a key (JWK${secret}), not a trust list: give the issuers' trust list (trust.json, with "issuers" and "fleet")`);
  }
  return parseWith(trustListSchema, document, path);
}

/** The message of an InputError `work` throws; other errors are not the answer's fault and go on. */
function problemOf(work: () => unknown): string | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    if (error instanceof InputError) return error.message;
    throw error;
  }
}

/** What the config's gate schema says of one field, the other fields standing in with right values. */
function gateProblem(gate: { id: string; site: string; zone?: string | undefined; mode: string }, field: 'id' | 'site' | 'zone' | 'mode'): string | undefined {
  const parsed = gateSettingsSchema.safeParse(gate);
  if (parsed.success) return undefined;
  // A mode's own rules (an access gate needs its allow-list) are reported on other fields of the section.
  const issue = parsed.error.issues.find((i) => i.path[0] === field || (field === 'mode' && i.path[0] === 'access'));
  return issue?.message;
}

export interface CheckPlace {
  allowPlainBroker: boolean;
  registry: DriverRegistry;
  /** The gate a journal already in the state directory belongs to (`--force` keeps it). */
  journalGate: () => string | undefined;
  journalPath: string;
}

/**
 * Every answer checked as the config, trust list and devices file will be
 * checked when written and when the gate starts, so that a wrong one is asked
 * again at its own prompt, not found after the last.
 */
export function answerChecks(place: CheckPlace): AnswerChecks {
  const stand = { id: 'G', site: 'S', mode: 'bus' };
  return {
    gateId: (id) => {
      const problem = checkGateId(id) ?? gateProblem({ ...stand, id }, 'id');
      if (problem) return problem;
      const owner = place.journalGate();
      if (owner !== undefined && owner !== id) {
        return `${place.journalPath} belongs to gate ${owner}: export its undelivered taps (citygate journal export --journal ${place.journalPath} --undelivered --format json --out FILE) and move the journal aside first`;
      }
      return undefined;
    },
    site: (site) => (topicSafe(site) ? gateProblem({ ...stand, site }, 'site') : 'a site id cannot hold "/", "+" or "#" (it is an MQTT topic level)'),
    zone: (zone) => gateProblem({ ...stand, zone }, 'zone'),
    mode: (mode, earlier: Partial<ProvisionAnswers>) => {
      if (!(MODES as readonly string[]).includes(mode)) return `mode must be one of ${MODES.join(', ')}`;
      const problem = gateProblem({ id: earlier.gateId ?? stand.id, site: earlier.site ?? stand.site, zone: earlier.zone, mode }, 'mode');
      return problem && `mode ${mode}: ${problem}; provision another mode, then add the section to the config`;
    },
    broker: (url) => {
      const parsed = configSchema.shape.sync.unwrap().shape.broker.safeParse(url);
      if (!parsed.success) return parsed.error.issues[0]?.message ?? 'not a broker URL';
      if (!place.allowPlainBroker && /^(mqtt|ws):/.test(url)) {
        return 'the fleet broker is reached over TLS with the device certificate (mqtts:// or wss://); --allow-plain-broker is for a lab broker only';
      }
      return undefined;
    },
    trust: (path) => problemOf(() => readTrustList(path)),
    fleetKey: (path, earlier) => problemOf(() => trustWithFleetKey(earlier.trust!, path)),
    devices: (answer) => problemOf(() => readDevices(answer, place.registry)),
  };
}
