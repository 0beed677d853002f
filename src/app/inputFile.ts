import { readFileSync } from 'node:fs';
import { InputError } from './settingsSchema.js';

/** Read a file a person named; a missing or unreadable file is an InputError naming it and the OS's reason. */
export function readInputText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Read a JSON file a person named; bad JSON is an InputError naming the file. */
export function readInputJson(path: string, what: string): unknown {
  const text = readInputText(path, what);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`${what} ${path} is not JSON: ${(error as Error).message}`);
  }
}
