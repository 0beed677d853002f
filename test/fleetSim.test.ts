import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/*
 * `npm run fleet-sim` in miniature: 20 gates on the real sync code, a real
 * mosquitto (restarted mid-run), two collectors sharing a subscription into a
 * real PostgreSQL (one frozen for 2 s), a deny-list push by the fleet tools.
 * Correctness only: every tap stored exactly once, every gate on the new deny
 * list, and every figure present. No timing is asserted.
 */

function runFleetSim(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/faults/fleetSim/run.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('fleet-sim', () => {
  it('stores every tap of 20 gates exactly once through a collector stall and a broker restart, and brings every gate the new deny list', async () => {
    const { code, stdout, stderr } = await runFleetSim(['--gates', '20', '--minutes', '0.15', '--stall', '2', '--workers', '2', '--rate', '2']);
    expect(code, stderr).toBe(0);
    const figures = JSON.parse(stdout) as Record<string, any>;

    expect(stderr).toMatch(/collector1 frozen/);
    expect(stderr).toMatch(/broker killed and restarted/);
    expect(figures.taps.journaled).toBeGreaterThan(0);
    expect(figures.taps).toMatchObject({ missing: 0, extraRows: 0, unknownRows: 0, gatesUndelivered: 0, exactlyOnce: true, drained: true });
    expect(figures.taps.storedRows).toBe(figures.taps.journaled);
    expect(figures.ackMs.count).toBe(figures.taps.journaled);
    expect(figures.denyList.seq).toBe(2);
    expect(figures.denyList.gatesReached).toBe(20);
    expect(figures.denyList.gatesCurrentAtEnd).toBe(20);

    expect(figures.rate).toEqual({ min: 2, max: 2 });
    expect(figures.tapsPerSecAsked).toBe(40);
    for (const field of ['tapsPerSecOffered', 'tapsPerSecStored']) expect(typeof figures[field]).toBe('number');
    for (const field of ['p50', 'p99', 'max']) expect(typeof figures.ackMs[field]).toBe('number');
    expect(typeof figures.duplicates.count).toBe('number');
    expect(typeof figures.duplicates.shareOfTaps).toBe('number');
    for (const field of ['p50Ms', 'p99Ms', 'maxMs']) expect(typeof figures.denyList[field]).toBe('number');
    expect(typeof figures.backlog.max).toBe('number');
    for (const fault of ['stall', 'brokerRestart']) expect(Object.keys(figures.backlog[fault]).sort()).toEqual(['backToNormalSec', 'endSec', 'max', 'startSec']);
    expect(figures.backlog.series.length).toBeGreaterThan(0);
    expect(Object.keys(figures.parts).sort()).toEqual(['broker', 'collector1', 'collector2', 'gateWorker1', 'gateWorker2', 'postgres', 'rig']);
    for (const part of Object.values(figures.parts) as Record<string, unknown>[]) expect(Object.keys(part).sort()).toEqual(['cpuPercent', 'cpuSec', 'rssMBEnd', 'rssMBMax']);
    expect(Object.keys(figures.goals).sort()).toEqual(['backlogBackWithin30s', 'denyListAtEveryGateWithin10s', 'duplicatesUnder1Percent']);
  });

  it('refuses a bad option with a usage line and exit 2', async () => {
    const { code, stderr } = await runFleetSim(['--gates', 'many']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--gates "many": expected a positive whole number/);
    for (const rate of ['2-1', '1-2-3', 'fast', '0']) {
      const refused = await runFleetSim(['--rate', rate]);
      expect(refused.code, rate).toBe(2);
      expect(refused.stderr, rate).toMatch(/--rate "[^"]*": expected/);
    }
  });
});
