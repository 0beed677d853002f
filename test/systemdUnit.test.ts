import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..');
const UNIT = join(REPO, 'systemd', 'citygate.service');
const INSTALL = join(REPO, 'systemd', 'install.sh');
const dir = mkdtempSync(join(tmpdir(), 'citygate-systemd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The unit's [Service] settings: key -> every value given to it, in order. */
function serviceSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const [key, ...value] = line.split('=');
    if (section === 'Service') settings.set(key!, [...(settings.get(key!) ?? []), value.join('=')]);
  }
  return settings;
}

/** systemd-analyze verify on a copy whose ExecStart runs this machine's node (it checks the binary exists). */
function verify(text: string): { status: number | null; output: string } {
  const copy = join(dir, 'citygate.service');
  writeFileSync(copy, text.replace('/usr/bin/node ', `${process.execPath} `));
  const result = run('systemd-analyze', ['verify', copy]);
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

/** `systemd-analyze security --offline=true` (systemd 250 and later) on such a copy: the overall exposure, and the table. */
function exposure(text: string): { score: number; output: string } {
  const copy = join(dir, 'citygate.service');
  writeFileSync(copy, text.replace('/usr/bin/node ', `${process.execPath} `));
  const result = run('systemd-analyze', ['security', '--offline=true', '--no-pager', copy]);
  const output = `${result.stdout}${result.stderr}`;
  const score = /Overall exposure level for citygate\.service: (\d+(?:\.\d+)?)/.exec(output)?.[1];
  if (score === undefined) throw new Error(`no exposure level in systemd-analyze security's output:\n${output}`);
  return { score: Number(score), output };
}

describe('systemd/citygate.service', () => {
  const text = readFileSync(UNIT, 'utf8');

  it('passes systemd-analyze verify without a single warning', () => {
    const result = verify(text);
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  it('is checked for real: the same verify reports a misspelt key and a bad value in a copy', () => {
    const broken = verify(text.replace('WatchdogSec=10', 'WatchdogSec=ten\nRestartt=always'));
    expect(broken.output).toContain("Unknown key 'Restartt'");
    expect(broken.output).toContain('Failed to parse sec value, ignoring: ten');
  });

  it('scores an exposure of 3.0 or lower in systemd-analyze security (it was 5.8), and a copy without the sandbox does not', () => {
    const { score, output } = exposure(text);
    expect(score, output).toBeLessThanOrEqual(3.0);
    // The score is read for real: the unit stripped of its hardening scores worse.
    const keep = /^(\[|#|$|Description|Documentation|Wants|After|StartLimit|Type|ExecStart|NotifyAccess|Watchdog|Restart|Kill|Timeout|User|Group|Supplementary|Configuration|State|Environment|Limit|WantedBy)/;
    const bare = text.split('\n').filter((line) => keep.test(line)).join('\n');
    expect(exposure(bare).score).toBeGreaterThan(5.8);
  });

  it('keeps every device and leaves out what would break the gate', () => {
    const s = serviceSettings(text);
    const one = (key: string) => s.get(key)?.at(-1);
    expect(one('SystemCallFilter')?.split(/\s+/)).toContain('@system-service');
    expect(one('SystemCallErrorNumber')).toBe('EPERM');
    expect(one('SystemCallArchitectures')).toBe('native');
    expect(one('CapabilityBoundingSet')).toBe('');
    expect(one('ProtectProc')).toBe('invisible');
    expect(one('UMask')).toBe('0077');
    // V8's JIT needs writable then executable memory; GPIO sysfs needs a writable /sys;
    // the broker is a remote host the unit cannot name; pcscd and the device groups see the real user.
    for (const key of ['MemoryDenyWriteExecute', 'ProtectKernelTunables', 'IPAddressDeny', 'PrivateUsers', 'PrivateDevices', 'ProcSubset']) expect(s.has(key), key).toBe(false);
    const allowed = (s.get('DeviceAllow') ?? []).map((v) => v.split(/\s+/)[0]);
    expect(allowed.sort()).toEqual(['char-alsa', 'char-gpiochip', 'char-i2c', 'char-ttyACM', 'char-ttyAMA', 'char-ttyS', 'char-ttyUSB', 'char-video4linux']);
    expect(one('RestrictAddressFamilies')?.split(/\s+/).sort()).toEqual(['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX']);
  });

  it('runs the daemon as a notify service with a watchdog, a dedicated user and a sandbox', () => {
    const s = serviceSettings(text);
    const one = (key: string) => s.get(key)?.at(-1);
    expect(one('ExecStart')).toBe('/usr/bin/node /opt/citygate/dist/bin/citygate.js run --config /etc/citygate/config.json');
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('main');
    expect(Number(one('WatchdogSec'))).toBeGreaterThan(0);
    expect(one('Restart')).toBe('always');
    expect(one('User')).toBe('citygate');
    expect(one('SupplementaryGroups')?.split(/\s+/).sort()).toEqual(['audio', 'dialout', 'gpio', 'i2c', 'video']);
    expect(one('StateDirectory')).toBe('citygate');
    expect(one('ConfigurationDirectory')).toBe('citygate');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ProtectHome')).toBe('yes');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('PrivateTmp')).toBe('yes');
    // Writable paths come only from StateDirectory=: nothing else is opened up.
    expect(s.has('ReadWritePaths')).toBe(false);
    // A closed device policy must still let the gate reach its devices.
    expect(one('DevicePolicy')).toBe('closed');
    const allowed = (s.get('DeviceAllow') ?? []).map((v) => v.split(/\s+/)[0]);
    for (const device of ['char-gpiochip', 'char-i2c', 'char-ttyAMA', 'char-ttyACM', 'char-video4linux']) expect(allowed).toContain(device);
  });
});

describe('systemd/udev/99-citygate.rules', () => {
  it('names the scan module and the camera with well-formed rules', () => {
    const rules = readFileSync(join(REPO, 'systemd', 'udev', '99-citygate.rules'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(rules.length).toBeGreaterThan(0);
    const pair = /^\s*([A-Z_]+(\{[^}]+\})?)\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*$/;
    for (const rule of rules) {
      const pairs = rule.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/);
      for (const p of pairs) expect(pair.test(p), `${rule}\n  bad: ${p}`).toBe(true);
      expect(rule).toMatch(/(==)/);
    }
    expect(rules.filter((r) => r.includes('SYMLINK+="citygate-scanner"')).length).toBeGreaterThan(1);
    expect(rules.filter((r) => r.includes('SYMLINK+="citygate-camera"'))).toHaveLength(1);
  });
});

describe('systemd/install.sh', () => {
  it('--dry-run prints every step and changes nothing', () => {
    const root = join(dir, 'dry');
    const result = run('bash', [INSTALL, '--dry-run', '--prefix', root]);
    expect(result.status, result.stderr).toBe(0);
    for (const step of [
      `install -D -m 0644 ${REPO}/systemd/citygate.service ${root}/etc/systemd/system/citygate.service`,
      `${root}/etc/udev/rules.d/99-citygate.rules`,
      `${root}/etc/polkit-1/rules.d/60-citygate-pcscd.rules`,
      `npm --prefix ${root}/opt/citygate ci`,
      `npm --prefix ${root}/opt/citygate prune --omit=dev`,
      'systemctl daemon-reload',
    ]) {
      expect(result.stdout).toContain(step);
    }
    expect(result.stdout).toMatch(/\+ (useradd .* citygate|usermod .* citygate)/);
    expect(result.stdout).toContain('citygate provision');
    expect(existsSync(root)).toBe(false);
  });

  it('installs into a staging root, and a second run is the same install', () => {
    const root = join(dir, 'staged');
    const snapshot = () => {
      const files: Record<string, string> = {};
      for (const path of ['etc/systemd/system/citygate.service', 'etc/udev/rules.d/99-citygate.rules', 'etc/polkit-1/rules.d/60-citygate-pcscd.rules']) {
        files[path] = `${(statSync(join(root, path)).mode & 0o777).toString(8)} ${readFileSync(join(root, path), 'utf8')}`;
      }
      files.opt = readdirSync(join(root, 'opt', 'citygate')).sort().join(' ');
      return files;
    };
    const first = run('bash', [INSTALL, '--prefix', root, '--skip-build']);
    expect(first.status, first.stderr).toBe(0);
    // Nothing system-wide happens under --prefix: it is said instead.
    expect(first.stdout).toContain('skipped under --prefix: systemctl daemon-reload');
    const installed = snapshot();
    expect(installed['etc/systemd/system/citygate.service']).toBe(`644 ${readFileSync(UNIT, 'utf8')}`);
    const launcher = join(root, 'usr', 'local', 'bin', 'citygate');
    expect(lstatSync(launcher).isSymbolicLink()).toBe(true);
    expect(readlinkSync(launcher)).toBe('/opt/citygate/dist/bin/citygate.js');

    // The staged program runs on its own files.
    const staged = run(process.execPath, [join(root, 'opt', 'citygate', 'dist', 'bin', 'citygate.js'), 'provision', '--help']);
    expect(staged.status, staged.stderr).toBe(0);
    expect(staged.stdout).toContain('--gate-id');

    const second = run('bash', [INSTALL, '--prefix', root, '--skip-build']);
    expect(second.status, second.stderr).toBe(0);
    expect(snapshot()).toEqual(installed);
  });

  it('refuses an unknown option with exit 2', () => {
    expect(run('bash', [INSTALL, '--frobnicate']).status).toBe(2);
  });
});
