import type { NativeReader } from './pcscNative.js';

/**
 * pcsclite's watcher of one reader, and how to stop it so the process can exit.
 *
 * For every reader pcscd lists, pcsclite starts a thread that waits in
 * SCardGetStatusChange and wakes the event loop through a uv_async handle. That
 * handle is referenced: until the reader's close() has stopped the thread, the
 * process does not exit, whether or not the driver uses the reader. close()
 * needs care:
 * - it can only cancel a thread that is already waiting: called before the
 *   thread's first report, the thread ends without waking the loop, the handle
 *   is never closed and the process never exits;
 * - it takes the reader's lock, which pcsclite holds inside the reader's event
 *   callbacks and around each exchange with the card: called from a callback,
 *   or while an exchange is under way, it blocks the event loop.
 */
export class PcscReaderWatch {
  private readonly reported: Promise<void>;
  private closing: Promise<void> | undefined;

  constructor(private readonly native: NativeReader) {
    // The thread's first report (the reader's state, an error, or its end) says it is in its loop.
    this.reported = new Promise((resolve) => {
      const reported = (): void => resolve();
      native.once('status', reported);
      native.once('error', reported);
      native.once('end', reported);
    });
  }

  /**
   * Stop the watcher thread once it has reported and `free` (the last operation
   * on the card handle, an exchange still under way included) has settled, from
   * a macrotask of its own. Resolves once stopped; may be called again.
   */
  close(free: Promise<unknown> = Promise.resolve()): Promise<void> {
    this.closing ??= Promise.all([this.reported, free.catch(() => undefined)])
      .then(() => new Promise((resolve) => setImmediate(resolve)))
      .then(() => {
        try {
          this.native.close();
        } catch {
          // A reader pcscd already dropped: its thread has ended by itself.
        }
      });
    return this.closing;
  }
}
