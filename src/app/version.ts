import { readFileSync } from 'node:fs';

/** citygate's version, from package.json (two levels up from src/app and from dist/src/app alike). */
function readVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const document = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (document.name === 'citygate' && document.version) return document.version;
    } catch {
      continue;
    }
  }
  return 'unknown';
}

export const VERSION = readVersion();
