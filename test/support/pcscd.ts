import { PcscdProcess } from '../../sim/pcscdProcess.js';

/**
 * A private pcscd (vpcd driver, two virtual slots) for one test file, with
 * this process's libpcsclite pointed at it. libpcsclite reads
 * PCSCLITE_CSOCK_NAME once, at its first use in the process (pthread_once in
 * winscard_msg.c), so it is set here, before any reader is started; one test
 * file talks to one pcscd, which `restart()` and `kill()` act on.
 */
export async function startPrivatePcscd(): Promise<PcscdProcess> {
  const daemon = await PcscdProcess.start();
  const earlier = process.env.PCSCLITE_CSOCK_NAME;
  if (earlier !== undefined && earlier !== daemon.socketPath) {
    await daemon.stop();
    throw new Error(`PCSCLITE_CSOCK_NAME is already ${earlier}: one private pcscd per test file`);
  }
  process.env.PCSCLITE_CSOCK_NAME = daemon.socketPath;
  return daemon;
}
