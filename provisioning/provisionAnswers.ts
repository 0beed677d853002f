import { createInterface, type Interface } from 'node:readline/promises';
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

/** What is wrong with an answer, in words for the technician; undefined when it is right. The earlier answers are settled. */
export type AnswerCheck = (value: string, earlier: Partial<ProvisionAnswers>) => string | undefined;
export type AnswerChecks = Partial<Record<keyof ProvisionAnswers, AnswerCheck>>;

/** The technician left the prompts: Ctrl-C (`interrupt`) or Ctrl-D (`end`). Nothing has been written. */
export class PromptCancelled extends Error {
  override name = 'PromptCancelled';
  constructor(readonly how: 'interrupt' | 'end') {
    super(how === 'interrupt' ? 'provision cancelled (Ctrl-C): nothing was written' : 'provision cancelled (end of input, Ctrl-D): nothing was written');
  }
}

interface Question {
  field: keyof ProvisionAnswers;
  flag: string;
  prompt: string;
  optional?: boolean;
}

/** In the order asked: a later check may rely on an earlier answer (the fleet key is merged into the trust list). */
const QUESTIONS: readonly Question[] = [
  { field: 'gateId', flag: '--gate-id', prompt: 'Gate id (as fleet ops assigned it)' },
  { field: 'site', flag: '--site', prompt: 'Site id' },
  { field: 'zone', flag: '--zone', prompt: 'Zone id (Enter for none)', optional: true },
  { field: 'mode', flag: '--mode', prompt: `Mode (${MODES.join(', ')})` },
  { field: 'broker', flag: '--broker', prompt: 'Fleet broker URL (mqtts://host:8883)' },
  { field: 'trust', flag: '--trust', prompt: 'Trust list file (JSON)' },
  { field: 'fleetKey', flag: '--fleet-key', prompt: 'Fleet-ops public key file (JWK, fleet-public.json)' },
  { field: 'devices', flag: '--devices', prompt: 'Devices file (JSON "devices" section), or "sim" for the simulated board' },
];

/**
 * Take every answer from the flags, each checked in turn. At a terminal, ask
 * for what is missing and again for whatever is wrong (a wrong flag too),
 * so that no answer is lost to a later mistake; without one, fail naming
 * every missing flag, or the first wrong one (scripts must not hang on a prompt).
 */
export async function collectAnswers(flags: ProvisionFlags, interactive: boolean, checks: AnswerChecks): Promise<ProvisionAnswers> {
  const given = givenAnswers(flags);
  if (!interactive) {
    refuseMissing(flags);
    checkAnswers(given as ProvisionAnswers, checks);
    return given as ProvisionAnswers;
  }
  let terminal: Interface | undefined;
  const cancel = new AbortController();
  let how: PromptCancelled['how'] | undefined;
  const open = (): Interface => {
    if (terminal) return terminal;
    terminal = createInterface({ input: process.stdin, output: process.stderr });
    // With a listener, readline hands Ctrl-C to it instead of rejecting the question unnamed.
    terminal.on('SIGINT', () => {
      how = 'interrupt';
      cancel.abort();
    });
    terminal.on('close', () => {
      how ??= 'end';
      cancel.abort();
    });
    return terminal;
  };
  try {
    // The optional zone is asked only of someone already answering questions.
    const asking = missingQuestions(given).length > 0;
    const settled: Partial<ProvisionAnswers> = {};
    for (const question of QUESTIONS) {
      const value = given[question.field];
      const problem = value === undefined ? undefined : checks[question.field]?.(value, settled);
      if (value !== undefined && !problem) {
        settled[question.field] = value;
        continue;
      }
      if (value === undefined && question.optional && !asking) continue;
      if (problem) process.stderr.write(`${question.flag} ${value}: ${problem}\n`);
      try {
        settled[question.field] = await ask(open(), question, checks[question.field], settled, cancel.signal);
      } catch (error) {
        if (how !== undefined) throw new PromptCancelled(how);
        throw error;
      }
    }
    return settled as ProvisionAnswers;
  } finally {
    if (terminal) {
      terminal.close();
      // A terminal's stdin, once read, would keep the process alive after the work is done.
      process.stdin.destroy();
    }
  }
}

function givenAnswers(flags: ProvisionFlags): Partial<ProvisionAnswers> {
  const { sim, ...given } = flags;
  return { ...given, devices: sim ? 'sim' : flags.devices };
}

function missingQuestions(given: Partial<ProvisionAnswers>): Question[] {
  return QUESTIONS.filter((q) => !q.optional && given[q.field] === undefined);
}

/** Without a terminal nothing can be asked: every missing flag is named at once, before anything else is looked at. */
export function refuseMissing(flags: ProvisionFlags): void {
  const missing = missingQuestions(givenAnswers(flags));
  if (missing.length === 0) return;
  const names = missing.map((q) => (q.field === 'devices' ? '--devices FILE (or --sim)' : q.flag));
  throw new InputError(`missing ${names.join(', ')} (standard input is not a terminal, so nothing can be asked)`);
}

/** Every answer checked in the order asked; the first wrong one is an InputError naming its flag. */
export function checkAnswers(answers: ProvisionAnswers, checks: AnswerChecks): void {
  for (const { field, flag } of QUESTIONS) {
    const value = answers[field];
    const problem = value === undefined ? undefined : checks[field]?.(value, answers);
    if (problem) throw new InputError(`${flag}: ${problem} (got ${JSON.stringify(value)})`);
  }
}

async function ask(terminal: Interface, question: Question, check: AnswerCheck | undefined, earlier: Partial<ProvisionAnswers>, signal: AbortSignal): Promise<string | undefined> {
  for (;;) {
    const answer = (await terminal.question(`${question.prompt}: `, { signal })).trim();
    if (answer === '') {
      if (question.optional) return undefined;
      continue;
    }
    const problem = check?.(answer, earlier);
    if (!problem) return answer;
    process.stderr.write(`  ${problem}: asked again\n`);
  }
}
