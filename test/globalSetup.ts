import { execFileSync } from 'node:child_process';

/** CLI tests run the built program, as a technician would: build it once before any test. */
export default function setup(): void {
  execFileSync('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
}
