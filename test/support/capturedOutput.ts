import type { Output } from '../../provisioning/fleet/delivery.js';

/** What a fleet tool printed, line by line, on each stream. */
export class Captured implements Output {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  out = (line: string): void => void this.stdout.push(line);
  err = (line: string): void => void this.stderr.push(line);
}
