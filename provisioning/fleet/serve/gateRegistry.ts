import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { GateStatus } from './gateStatus.js';

/** The registry of gates, in the fleet-ops directory beside fleet-state.db. */
export const REGISTRY_FILE = 'fleet-gates.db';

/** One gate the fleet knows: seen on the broker (its status), named by `fleet acl --gate`, or both. */
export interface GateEntry {
  gate: string;
  /** The site of its last status, else the one it was registered with. */
  site: string | undefined;
  /** Registered by hand (`fleet acl --gate ID=SITE`): it stays in the ACL before it ever connects. */
  registered: boolean;
  /** The site it was registered with: the one its ACL names, whatever its status claims. */
  registeredSite: string | undefined;
  /** Its last status; undefined for a gate never seen, or whose retained status was cleared. */
  status: GateStatus | undefined;
  /** When the fleet service received that status (its own clock, ISO 8601). */
  seenAt: string | undefined;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS gates (
    gate TEXT PRIMARY KEY,
    site TEXT, -- registered by hand; a status does not change it
    registered INTEGER NOT NULL DEFAULT 0,
    status TEXT,
    seen_at TEXT
  ) WITHOUT ROWID;
`;

interface Row {
  gate: string;
  site: string | null;
  registered: number;
  status: string | null;
  seen_at: string | null;
}

function entryOf(row: Row): GateEntry {
  const status = row.status === null ? undefined : (JSON.parse(row.status) as GateStatus);
  return { gate: row.gate, site: status?.site ?? row.site ?? undefined, registered: row.registered === 1, registeredSite: row.site ?? undefined, status, seenAt: row.seen_at ?? undefined };
}

/**
 * Every gate's last status and registration, in SQLite (WAL, a busy timeout):
 * `fleet serve` writes it as statuses arrive, `fleet acl` reads it and adds
 * registrations, each in its own short transaction, so both can run at once.
 * Losing the file loses nothing the broker does not hold: the retained
 * statuses bring it back when the service next connects; only registrations
 * of gates never seen would have to be made again.
 */
export class GateRegistry {
  private readonly db: Database.Database;
  private readonly statements;

  constructor(dir: string, options: { readonly?: boolean } = {}) {
    if (!options.readonly) mkdirSync(dir, { recursive: true });
    this.db = new Database(join(dir, REGISTRY_FILE), options.readonly ? { readonly: true, fileMustExist: true } : {});
    this.db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.exec(SCHEMA);
    }
    this.statements = {
      all: this.db.prepare('SELECT gate, site, registered, status, seen_at FROM gates ORDER BY gate'),
      noteStatus: options.readonly ? undefined : this.db.prepare('INSERT INTO gates (gate, status, seen_at) VALUES (?, ?, ?) ON CONFLICT (gate) DO UPDATE SET status = excluded.status, seen_at = excluded.seen_at'),
      register: options.readonly ? undefined : this.db.prepare('INSERT INTO gates (gate, site, registered) VALUES (?, ?, 1) ON CONFLICT (gate) DO UPDATE SET site = excluded.site, registered = 1'),
    };
  }

  gates(): GateEntry[] {
    return (this.statements.all.all() as Row[]).map(entryOf);
  }

  /** A status received (undefined: the retained status was cleared). */
  noteStatus(gate: string, status: GateStatus | undefined, seenAt: string): void {
    this.statements.noteStatus!.run(gate, status === undefined ? null : JSON.stringify(status), seenAt);
  }

  /** A gate the ACL must let in before it first connects. */
  register(gate: string, site: string): void {
    this.statements.register!.run(gate, site);
  }

  close(): void {
    this.db.close();
  }
}
