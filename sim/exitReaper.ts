import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * What a harness started (gate daemons, brokers) and the temp directories it
 * made, killed and removed however this process ends: a normal exit, an
 * uncaught error, or a signal. A test runner that gives up on a timed-out
 * test file stops its worker with SIGTERM; without this, the daemons and the
 * broker of that file outlive the run and its temp directories stay.
 */

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
let installed = false;

function reap(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // A program that handles the signal itself stops its parts in its own order.
  if (process.listenerCount(signal) > 1) return;
  reap();
  for (const s of SIGNALS) process.off(s, onSignal);
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', reap);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

/** Kill `child` with SIGKILL if it is still running when this process ends. */
export function killOnExit(child: ChildProcess): void {
  install();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** A new temp directory, removed when this process ends unless `forget` was called on it first. */
export function tempDirRemovedOnExit(prefix: string): string {
  install();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** The directory is the caller's again: kept on exit (e.g. a work directory the user asked to keep). */
export function forget(dir: string): void {
  dirs.delete(dir);
}
