import fc from 'fast-check';
import type { Mutant } from './mutators.js';

/*
 * Structure-aware mutation of JSON documents: walk to a node of a genuine
 * document and replace, remove, retype or add a field there, with the format's
 * own field names, so that the mutant passes the JSON layer and tests the
 * schema behind it.
 */

type JsonEdit =
  | { op: 'replace'; path: number[]; value: unknown }
  | { op: 'remove'; path: number[] }
  | { op: 'add'; path: number[]; key: string; value: unknown }
  | { op: 'wrap'; path: number[] }
  | { op: 'repeat'; path: number[]; times: number };

/** Values that sit on the edges of what schemas check: empty, huge, negative, fractional, wrong types (cloned: edits change them in place). */
const edgeValue = fc.constantFrom<unknown>(
  '',
  ' ',
  '0',
  'x'.repeat(300),
  0,
  -1,
  1.5,
  2 ** 31,
  2 ** 53,
  Number.MAX_SAFE_INTEGER + 2,
  1e308,
  -1e308,
  true,
  false,
  null,
  [],
  {},
  [null],
  { '': null },
  '2026-02-30T25:61:00.000Z',
  '__proto__',
  'constructor',
).map((value) => structuredClone(value));

export function jsonValueWith(names: readonly string[]): fc.Arbitrary<unknown> {
  const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) });
  return fc.oneof(
    { weight: 3, arbitrary: edgeValue },
    { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    { weight: 1, arbitrary: fc.dictionary(key, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }) },
  );
}

function jsonEdit(names: readonly string[]): fc.Arbitrary<JsonEdit> {
  const path = fc.array(fc.nat(), { maxLength: 5 });
  const value = jsonValueWith(names);
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('replace' as const), path, value }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), path }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('add' as const), path, key: fc.constantFrom(...names), value }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('wrap' as const), path }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('repeat' as const), path, times: fc.integer({ min: 2, max: 40 }) }) },
  );
}

type Container = Record<string, unknown> | unknown[];

/** Arrays and objects; byte strings (a CBOR payload's nonce) are values, not containers. */
function isContainer(value: unknown): value is Container {
  return value !== null && typeof value === 'object' && !ArrayBuffer.isView(value);
}

function childKeys(node: Container): (string | number)[] {
  return Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
}

/** Follow `path` (each step a child index modulo the children) as far as it goes; the parent and key of the node reached. */
function locate(root: Container, path: readonly number[]): { parent: Container; key: string | number } | undefined {
  let parent: Container | undefined;
  let key: string | number | undefined;
  let node: unknown = root;
  for (const step of path) {
    if (!isContainer(node)) break;
    const keys = childKeys(node);
    if (keys.length === 0) break;
    parent = node;
    key = keys[step % keys.length]!;
    node = (node as Record<string | number, unknown>)[key];
  }
  return parent === undefined || key === undefined ? undefined : { parent, key };
}

function applyJsonEdit(document: Container, e: JsonEdit): void {
  const at = locate(document, e.path);
  const target = at ? (at.parent as Record<string | number, unknown>)[at.key] : document;
  switch (e.op) {
    case 'replace':
      if (at) (at.parent as Record<string | number, unknown>)[at.key] = e.value;
      return;
    case 'remove':
      if (!at) return;
      if (Array.isArray(at.parent)) at.parent.splice(at.key as number, 1);
      else delete at.parent[at.key as string];
      return;
    case 'add':
      if (isContainer(target) && !Array.isArray(target)) target[e.key] = e.value;
      else if (Array.isArray(target)) target.push(e.value);
      return;
    case 'wrap':
      if (at) (at.parent as Record<string | number, unknown>)[at.key] = [target];
      return;
    case 'repeat':
      if (Array.isArray(target) && target.length > 0) target.push(...Array.from({ length: e.times }, () => structuredClone(target[target.length - 1])));
      return;
  }
}

/** Genuine JSON documents with a few structural edits; each seed is cloned before it is edited. */
export function mutatedJson(seeds: readonly unknown[], names: readonly string[]): fc.Arbitrary<Mutant<unknown>> {
  return fc.record({ seed: fc.nat({ max: seeds.length - 1 }), list: fc.array(jsonEdit(names), { minLength: 1, maxLength: 3 }) }).map(({ seed, list }) => {
    const document = structuredClone(seeds[seed]);
    if (isContainer(document)) for (const e of list) applyJsonEdit(document, e);
    return { seed, value: document };
  });
}

/** Objects made of the format's field names with random values: shapes no one wrote, with the right words. */
export function jsonShapes(names: readonly string[], depth = 2): fc.Arbitrary<unknown> {
  const value = jsonValueWith(names);
  // Few keys and mostly flat values: the generator, not the parser, would otherwise take the time.
  const object = (d: number): fc.Arbitrary<unknown> =>
    fc.dictionary(
      fc.constantFrom(...names),
      d <= 0 ? value : fc.oneof({ weight: 3, arbitrary: value }, { weight: 1, arbitrary: object(d - 1) }, { weight: 1, arbitrary: fc.array(object(d - 1), { maxLength: 2 }) }),
      { maxKeys: 5 },
    );
  return object(depth);
}
