/**
 * The parts of the `pcsclite` module the driver uses, typed here so that the
 * native module itself is loaded only when a PC/SC reader is started.
 */
export interface NativeReaderStatus {
  state: number;
  atr?: Buffer;
}

export interface NativeReader {
  readonly name: string;
  readonly connected: boolean;
  readonly SCARD_SHARE_SHARED: number;
  readonly SCARD_PROTOCOL_T0: number;
  readonly SCARD_PROTOCOL_T1: number;
  readonly SCARD_STATE_PRESENT: number;
  readonly SCARD_STATE_MUTE: number;
  readonly SCARD_LEAVE_CARD: number;
  on(event: 'status', listener: (status: NativeReaderStatus) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'end', listener: () => void): this;
  once(event: 'status' | 'error' | 'end', listener: () => void): this;
  connect(options: { share_mode: number; protocol: number }, callback: (error: Error | null | undefined, protocol: number) => void): void;
  disconnect(disposition: number, callback: (error: Error | null | undefined) => void): void;
  transmit(data: Buffer, responseLength: number, protocol: number, callback: (error: Error | null | undefined, response: Buffer) => void): void;
  close(): void;
}

export interface NativeContext {
  on(event: 'reader', listener: (reader: NativeReader) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  close(): void;
}

export type NativeFactory = () => NativeContext;

/** Where libpcsclite looks for pcscd when PCSCLITE_CSOCK_NAME is not set. */
export const DEFAULT_PCSCD_SOCKET = '/run/pcscd/pcscd.comm';

/** libpcsclite reads PCSCLITE_CSOCK_NAME once per process, at its first use. */
let boundSocket: string | undefined;

/**
 * Load `pcsclite` (native), pointing libpcsclite at `socket` if given. A
 * process talks to one pcscd only: asking for a second socket is an error.
 */
export async function loadPcsclite(socket: string | undefined): Promise<{ factory: NativeFactory } | { error: string }> {
  const wanted = socket ?? process.env.PCSCLITE_CSOCK_NAME ?? DEFAULT_PCSCD_SOCKET;
  if (boundSocket !== undefined && boundSocket !== wanted) {
    return { error: `this process already talks to pcscd at ${boundSocket}; libpcsclite cannot switch to ${wanted} (PCSCLITE_CSOCK_NAME is read once per process)` };
  }
  if (socket !== undefined) process.env.PCSCLITE_CSOCK_NAME = socket;
  boundSocket = wanted;
  try {
    const module = (await import('pcsclite')) as unknown as { default: NativeFactory };
    return { factory: module.default };
  } catch (error) {
    return { error: `the pcsclite native module could not be loaded (${(error as Error).message}): install libpcsclite1 and run \`npm rebuild pcsclite\`` };
  }
}
