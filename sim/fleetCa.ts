import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A certificate and its key, as PEM files. */
export interface PemPair {
  cert: string;
  key: string;
}

function openssl(args: string[]): void {
  const done = spawnSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (done.status !== 0) throw new Error(`openssl ${args[0]} failed: ${done.stderr}`);
}

/** `openssl ca` dates: YYYYMMDDHHMMSSZ. */
function caDate(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/**
 * A fleet CA made with the openssl command line, as fleet ops would: it signs
 * the broker's certificate and gates' client certificates, with any validity
 * (an expired one, one not valid yet), which `openssl x509 -days` cannot give.
 */
export class TestFleetCa {
  readonly ca: PemPair;
  private serial = 0;

  private constructor(private readonly dir: string) {
    this.ca = { cert: join(dir, 'ca.pem'), key: join(dir, 'ca.key') };
  }

  static make(dir: string, name = 'fleet-ca'): TestFleetCa {
    mkdirSync(join(dir, 'issued'), { recursive: true });
    const made = new TestFleetCa(dir);
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', made.ca.key, '-out', made.ca.cert, '-subj', `/CN=${name}`, '-days', '365']);
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(
      join(dir, 'ca.cnf'),
      ['[ca]', 'default_ca = fleet', '[fleet]', `database = ${join(dir, 'index.txt')}`, `new_certs_dir = ${join(dir, 'issued')}`, `serial = ${join(dir, 'serial')}`, 'default_md = sha256', 'policy = any', 'unique_subject = no', 'copy_extensions = none', '[any]', 'commonName = supplied', ''].join('\n'),
    );
    return made;
  }

  /** The broker's certificate, for an IP address or host name; `serverAuth` marks it for servers only (extendedKeyUsage). */
  broker(host = '127.0.0.1', validity?: { from: Date; to: Date }, options: { serverAuth?: boolean } = {}): PemPair {
    const isIp = /^[0-9.]+$/.test(host);
    return this.issue('broker', host, validity, `subjectAltName=${isIp ? 'IP' : 'DNS'}:${host}${options.serverAuth ? '\nextendedKeyUsage=serverAuth' : ''}`);
  }

  /** A gate's client certificate (CN = gate id); `clientAuth` marks it for clients only (extendedKeyUsage). */
  device(gateId: string, validity?: { from: Date; to: Date }, options: { clientAuth?: boolean } = {}): PemPair {
    return this.issue(`device-${gateId}`, gateId, validity, options.clientAuth ? 'extendedKeyUsage=clientAuth' : undefined);
  }

  private issue(name: string, cn: string, validity: { from: Date; to: Date } | undefined, extension?: string): PemPair {
    const number = ++this.serial;
    const pair = { cert: join(this.dir, `${name}-${number}.pem`), key: join(this.dir, `${name}-${number}.key`) };
    const csr = join(this.dir, `${name}-${number}.csr`);
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', pair.key, '-out', csr, '-subj', `/CN=${cn}`]);
    writeFileSync(join(this.dir, 'serial'), `${number.toString(16).padStart(2, '0')}\n`);
    const from = validity?.from ?? new Date(Date.now() - 3_600_000);
    const to = validity?.to ?? new Date(Date.now() + 365 * 86_400_000);
    const args = ['ca', '-batch', '-notext', '-config', join(this.dir, 'ca.cnf'), '-cert', this.ca.cert, '-keyfile', this.ca.key, '-in', csr, '-out', pair.cert, '-startdate', caDate(from), '-enddate', caDate(to)];
    if (extension) {
      const extFile = join(this.dir, `${name}-${number}.ext`);
      writeFileSync(extFile, `${extension}\n`);
      args.push('-extfile', extFile);
    }
    openssl(args);
    return pair;
  }
}
