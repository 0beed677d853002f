import { createInterface } from 'node:readline/promises';
import { InputError } from '../src/app/settingsSchema.js';
import { MODES } from '../src/core/settings.js';

/** What a technician must tell `citygate provision`; each comes from a flag or, at a terminal, a question. */
export interface ProvisionAnswers {
  gateId: string;
  site: string;
  zone: string | undefined;
  mode: string;
  broker: string;
  trust: string;
  fleetKey: string;
  /** A JSON file holding the config's `devices` section, or `sim` for the simulated board. */
  devices: string;
}

export type ProvisionFlags = Partial<ProvisionAnswers> & { sim?: boolean };

interface Question {
  field: keyof ProvisionAnswers;
  flag: string;
  prompt: string;
  optional?: boolean;
}

const QUESTIONS: readonly Question[] = [
  { field: 'gateId', flag: '--gate-id', prompt: 'Gate id (as fleet ops assigned it)' },
  { field: 'site', flag: '--site', prompt: 'Site id' },
  { field: 'zone', flag: '--zone', prompt: 'Zone id (Enter for none)', optional: true },
  { field: 'mode', flag: '--mode', prompt: `Mode (${MODES.join(', ')})` },
  { field: 'broker', flag: '--broker', prompt: 'Fleet broker URL (mqtts://host:8883)' },
  { field: 'trust', flag: '--trust', prompt: 'Trust list file (JSON)' },
  { field: 'fleetKey', flag: '--fleet-key', prompt: 'Fleet-ops public key file (JWK)' },
  { field: 'devices', flag: '--devices', prompt: 'Devices file (JSON "devices" section), or "sim" for the simulated board' },
];

/** A gate id goes into MQTT topics and the certificate's CN: no topic separators or wildcards, no control characters. */
export function checkGateId(id: string): string | undefined {
  if (/[/+#]/.test(id)) return 'a gate id cannot hold "/", "+" or "#" (it is an MQTT topic level)';
  if (/[\u0000-\u001f\u007f]/.test(id)) return 'a gate id cannot hold control characters';
  if (id.trim() !== id) return 'a gate id cannot start or end with spaces';
  return undefined;
}

function checkAnswer(field: keyof ProvisionAnswers, value: string): string | undefined {
  if (field === 'gateId') return checkGateId(value);
  if (field === 'mode' && !(MODES as readonly string[]).includes(value)) return `mode must be one of ${MODES.join(', ')}`;
  return undefined;
}

/**
 * Take every answer from the flags; ask for the rest when a person is at the
 * terminal, else fail naming every missing flag (scripts must not hang on a prompt).
 */
export async function collectAnswers(flags: ProvisionFlags, interactive: boolean): Promise<ProvisionAnswers> {
  const given: Partial<ProvisionAnswers> = { ...flags, devices: flags.sim ? 'sim' : flags.devices };
  for (const { field, flag } of QUESTIONS) {
    const value = given[field];
    const problem = value === undefined ? undefined : checkAnswer(field, value);
    if (problem) throw new InputError(`${flag}: ${problem} (got ${JSON.stringify(value)})`);
  }
  const missing = QUESTIONS.filter((q) => !q.optional && given[q.field] === undefined);
  if (missing.length === 0) return given as ProvisionAnswers;
  if (!interactive) {
    const flags = missing.map((q) => (q.field === 'devices' ? '--devices FILE (or --sim)' : q.flag));
    throw new InputError(`missing ${flags.join(', ')} (standard input is not a terminal, so nothing can be asked)`);
  }
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    for (const question of QUESTIONS) {
      if (given[question.field] !== undefined) continue;
      given[question.field] = await ask(terminal, question);
    }
  } finally {
    terminal.close();
    // A terminal's stdin, once read, would keep the process alive after the work is done.
    process.stdin.destroy();
  }
  return given as ProvisionAnswers;
}

async function ask(terminal: ReturnType<typeof createInterface>, question: Question): Promise<string | undefined> {
  for (;;) {
    const answer = (await terminal.question(`${question.prompt}: `)).trim();
    if (answer === '') {
      if (question.optional) return undefined;
      continue;
    }
    const problem = checkAnswer(question.field, answer);
    if (!problem) return answer;
    process.stderr.write(`  ${problem}\n`);
  }
}
