import { readFileSync } from 'node:fs';
import { InputError } from '../src/app/settingsSchema.js';

/** Read a JSON file a person gave; a missing file or bad JSON is an InputError naming the file. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`${what} ${path} is not JSON: ${(error as Error).message}`);
  }
}
