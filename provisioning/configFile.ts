import { rmSync } from 'node:fs';
import { loadConfig } from '../src/app/config.js';
import { writeWhole } from './privateFile.js';

/** Write the config to a temporary file, load it as the daemon will, and only then put it in place. */
export function writeCheckedConfig(path: string, document: unknown): void {
  const text = `${JSON.stringify(document, null, 2)}\n`;
  const candidate = `${path}.new`;
  writeWhole(candidate, text);
  try {
    loadConfig(candidate, {});
    writeWhole(path, text);
  } finally {
    rmSync(candidate, { force: true });
  }
}
