import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { InputError } from '../src/app/settingsSchema.js';

/** The gate a journal file belongs to (its `meta` row), read without changing the file; undefined if there is no journal yet. */
export function journalGate(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    return (db.prepare("SELECT value FROM meta WHERE key = 'gate'").get() as { value: string } | undefined)?.value;
  } catch (error) {
    throw new InputError(`cannot read journal ${path}: ${(error as Error).message}`);
  } finally {
    db?.close();
  }
}
