import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { readTapLines } from '../../provisioning/journalImport.js';
import { configSchema, loadConfig } from '../../src/app/config.js';
import { InputError, parseWith } from '../../src/app/settingsSchema.js';
import { TrustListError, TrustStore } from '../../src/core/credentials/trustList.js';
import { scenarioSchema } from '../../sim/scenario.js';
import { loadScenario } from '../../sim/simCommand.js';
import { TRUST_PAYLOADS } from './fleetSeeds.js';
import { jsonShapes, mutatedJson } from './jsonMutators.js';
import { charOf, mutatedText } from './mutators.js';
import { accepted, crashed, jsonText, reasonKey, violated, type FuzzTarget, type Outcome } from './target.js';

/*
 * Files a person or a tool writes and the gate or the tools read: the config,
 * scenario files, the trust list, a journal export. A bad file is an
 * InputError (or the trust list's TrustListError) whose message names the
 * file and the field; nothing else may come out.
 */

/** The project's root, from this file in faults/fuzz or its build in dist/faults/fuzz. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'sim', 'scenarios')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

/** Every key that appears anywhere in the documents: the format's own words, for structure-aware edits. */
function fieldNames(documents: readonly unknown[]): string[] {
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        names.add(k);
        walk(v);
      }
    }
  };
  documents.forEach(walk);
  return [...names];
}

/** The path an InputError names, as a reason: `file: a.b.0.c: what` (or `file line 3: ...`) -> `a.b.N.c`. */
function namedField(error: InputError, source: string): string | undefined {
  const line = error.message.split('\n')[0]!;
  if (!line.startsWith(source)) return undefined;
  const rest = /^(?: line \d+)?: (.*)$/s.exec(line.slice(source.length));
  const path = rest?.[1]!.split(': ')[0];
  return path === undefined || path === '' ? undefined : reasonKey(path);
}

function inputErrorOutcome(parse: () => unknown, source: string, fileLevel: readonly string[] = []): Outcome {
  try {
    parse();
    return accepted;
  } catch (error) {
    if (!(error instanceof InputError)) return crashed(error);
    const fileProblem = fileLevel.find((words) => error.message.includes(words));
    if (fileProblem) return { kind: 'refused', reason: fileProblem.replace(/^[:\s]+|[:\s]+$/g, '') };
    const field = namedField(error, source);
    return field === undefined ? violated(`InputError naming no field: ${error.message}`) : { kind: 'refused', reason: field };
  }
}

function documentTarget(name: string, weight: number, seeds: readonly unknown[], parse: (document: unknown, source: string) => unknown): FuzzTarget<unknown> {
  const names = fieldNames(seeds);
  const source = `${name}.json`;
  return {
    name,
    weight,
    arbitrary: fc.oneof({ weight: 5, arbitrary: mutatedJson(seeds, names).map((m) => m.value) }, { weight: 1, arbitrary: jsonShapes(names, 3) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) }),
    run: (document) => inputErrorOutcome(() => parse(document, source), source),
    encode: (document) => JSON.stringify(document) ?? 'null',
    decode: (text) => JSON.parse(text) as unknown,
  };
}

/** Text inputs written to a file and read by the product's own loader, path and all. */
function fileTarget(name: string, weight: number, texts: readonly string[], file: string, load: (path: string) => unknown, fileLevel: readonly string[], extra: fc.Arbitrary<string>): FuzzTarget<string> {
  return {
    name,
    weight,
    arbitrary: fc.oneof({ weight: 3, arbitrary: mutatedText(texts, charOf('{}[]":, 0123456789-.truefalsn')).map((m) => m.value) }, { weight: 2, arbitrary: extra }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) }),
    run: (text) => {
      writeFileSync(file, text);
      return inputErrorOutcome(() => load(file), file, fileLevel);
    },
    ...jsonText,
  };
}

export interface FileSeeds {
  configs: unknown[];
  scenarios: unknown[];
}

/** The genuine files: the example config, the built-in scenarios, and configs made of each scenario's gate section. */
export function fileSeeds(): FileSeeds {
  const root = projectRoot();
  const scenarioDir = join(root, 'sim', 'scenarios');
  const scenarios = readdirSync(scenarioDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readJson(join(scenarioDir, f)));
  const example = readJson(join(root, 'examples', 'sim-gate.json')) as Record<string, unknown>;
  const full = {
    ...example,
    sync: { broker: 'mqtts://broker.example:8883', tls: { ca: '/etc/citygate/ca.pem', cert: '/etc/citygate/cert.pem', key: '/etc/citygate/key.pem' }, retentionDays: 30, batchSize: 500, window: 8, ackTimeoutMs: 10000 },
    metrics: { host: '127.0.0.1', port: 9464 },
  };
  const configs = [example, full, ...scenarios.map((s) => ({ ...example, gate: (s as { gate: unknown }).gate }))];
  return { configs, scenarios };
}

export function configTarget(seeds: FileSeeds): FuzzTarget<unknown> {
  return documentTarget('config', 2, seeds.configs, (document, source) => parseWith(configSchema, document, source));
}

export function scenarioTarget(seeds: FileSeeds): FuzzTarget<unknown> {
  return documentTarget('scenario', 1, seeds.scenarios, (document, source) => parseWith(scenarioSchema, document, source));
}

const JSON_FILE_PROBLEMS = ['is not JSON', 'the top level must be an object'];

export function configFileTarget(seeds: FileSeeds, dir: string): FuzzTarget<string> {
  const texts = seeds.configs.map((c) => JSON.stringify(c, null, 2));
  const names = fieldNames(seeds.configs);
  const extra = mutatedJson(seeds.configs, names).map((m) => JSON.stringify(m.value) ?? '');
  return fileTarget('config-file', 0.5, texts, join(dir, 'config.json'), (path) => loadConfig(path, {}), JSON_FILE_PROBLEMS, extra);
}

export function scenarioFileTarget(seeds: FileSeeds, dir: string): FuzzTarget<string> {
  const texts = seeds.scenarios.map((s) => JSON.stringify(s, null, 2));
  const extra = mutatedJson(seeds.scenarios, fieldNames(seeds.scenarios)).map((m) => JSON.stringify(m.value) ?? '');
  return fileTarget('scenario-file', 0.3, texts, join(dir, 'scenario.json'), (path) => loadScenario(path), JSON_FILE_PROBLEMS, extra);
}

/** Journal export lines (`journal export --format json`), as `journal import` reads them on a replacement unit. */
export function journalImportTarget(dir: string): FuzzTarget<string> {
  const line = (seq: number, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      id: `01890a5d-ac96-774b-bcce-b302099a8${String(seq).padStart(3, '0')}`,
      seq,
      at: '2027-01-15T08:00:00.123Z',
      gate: 'fuzz-gate-1',
      site: 'fuzz-site',
      mode: 'venue',
      kind: 'code',
      issuer: 'cq.yukuaima',
      subject: 'acct-1',
      category: 'adult',
      result: 'accepted',
      reason: 'ok',
      fare: 200,
      product: { entries: 1 },
      latencyMs: 3.2,
      place: null,
      ...extra,
    });
  const exports = [`${line(1)}\n${line(2, { result: 'refused', reason: 'expired', fare: null })}\n`, `${line(9, { kind: 'uid', issuer: 'uid', product: null, place: { route: '261' } })}\n\n`];
  const documents = exports.map((e) => JSON.parse(e.split('\n')[0]!) as unknown);
  const extra = mutatedJson(documents, fieldNames(documents)).map((m) => `${JSON.stringify(m.value)}\n${line(3)}\n`);
  return fileTarget('journal-import', 0.3, exports, join(dir, 'export.jsonl'), readTapLines, ['is a CSV export', ': not JSON: '], extra);
}

/** The trust list file as the gate loads it (and as a trust-list update carries it). */
export function trustFileTarget(): FuzzTarget<string> {
  const lists = TRUST_PAYLOADS.map((p) => p.trustList);
  const texts = lists.map((l) => JSON.stringify(l, null, 1));
  const names = fieldNames(lists);
  return {
    name: 'trust-file',
    weight: 2,
    arbitrary: fc.oneof(
      { weight: 3, arbitrary: mutatedJson(lists, names).map((m) => JSON.stringify(m.value) ?? '') },
      { weight: 2, arbitrary: mutatedText(texts, charOf('{}[]":,-_=0123456789ABCDEFabcdef')).map((m) => m.value) },
      { weight: 1, arbitrary: jsonShapes(names, 3).map((v) => JSON.stringify(v)) },
    ),
    run: (text): Outcome => {
      try {
        TrustStore.fromJson(text);
        return accepted;
      } catch (error) {
        if (error instanceof TrustListError && error.message !== '') return { kind: 'refused', reason: reasonKey(error.message.split(': ').slice(0, 2).join(': ')) };
        return crashed(error);
      }
    },
    ...jsonText,
  };
}
