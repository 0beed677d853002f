import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { killOnExit } from '../../sim/exitReaper.js';

/** The built JS of a sibling module: the rig forks its workers from dist/ even when it runs from a test's TypeScript. */
export function builtModule(name: string): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const dir = here.includes('/dist/') ? here : here.replace(/\/faults\/fleetSim\/$/, '/dist/faults/fleetSim/');
  return `${dir}${name}.js`;
}

/** A forked child with IPC, killed if the rig ends without stopping it; its stderr goes to the rig's stderr. */
export function forkChild(name: string, args: string[]): ChildProcess {
  const child = fork(builtModule(name), args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  killOnExit(child);
  return child;
}

/** Resolves with the first message `accept` takes; rejects if the child exits first or the wait ends. */
export function nextMessage<T>(child: ChildProcess, accept: (message: unknown) => T | undefined, what: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${what}: nothing within ${timeoutMs / 1000} s`)), timeoutMs);
    const onMessage = (message: unknown) => {
      const value = accept(message);
      if (value !== undefined) finish(undefined, value);
    };
    const onExit = (code: number | null) => finish(new Error(`${what}: the process exited (${code})`));
    function finish(error: Error | undefined, value?: T): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Wait for a child's exit, killing it after `graceMs`. */
export async function exited(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise((resolve) => child.once('exit', resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
}
