import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * A test fleet CA and the certificates it signs, made with openssl (as fleet
 * ops would): device certificates with CN = gate id for the gates, a server
 * certificate for the broker. Never for a real fleet.
 */

export interface IssuedCertificate {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export class TestFleetCa {
  readonly certPath: string;
  private readonly keyPath: string;

  constructor(
    private readonly dir: string,
    readonly name = 'test-fleet-ca',
  ) {
    this.certPath = join(dir, `${name}.pem`);
    this.keyPath = join(dir, `${name}.key`);
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', this.keyPath, '-out', this.certPath, '-subj', `/CN=${name}`, '-days', '365']);
  }

  get cert(): string {
    return readFileSync(this.certPath, 'utf8');
  }

  /** A gate's client certificate (CN = gate id, extendedKeyUsage clientAuth), valid from `startDays` ago (negative: in the future) for `days`. */
  device(gateId: string, options: { days?: number; startDays?: number } = {}): IssuedCertificate {
    return this.issue(gateId, 'extendedKeyUsage=clientAuth\n', options);
  }

  /** The broker's server certificate for 127.0.0.1 (extendedKeyUsage serverAuth). */
  server(): IssuedCertificate {
    return this.issue('127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n', {});
  }

  private issue(cn: string, extensions: string, options: { days?: number; startDays?: number }): IssuedCertificate {
    const base = join(this.dir, cn.replace(/[^A-Za-z0-9.-]/g, '_'));
    const keyPath = `${base}.key`;
    const certPath = `${base}.pem`;
    writeFileSync(`${base}.ext`, extensions);
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-out', `${base}.csr`, '-subj', `/CN=${cn}`]);
    // `openssl ca` is the only CLI that sets an arbitrary start date; x509 -req with -days is enough for current certificates.
    const startDays = options.startDays ?? 0;
    const days = options.days ?? 365;
    if (startDays === 0) {
      openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', this.certPath, '-CAkey', this.keyPath, '-out', certPath, '-days', String(days), '-extfile', `${base}.ext`]);
    } else {
      const date = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
      writeFileSync(join(this.dir, 'index.txt'), '');
      writeFileSync(join(this.dir, 'ca.cnf'), `[ca]\ndefault_ca=test\n[test]\ndatabase=${join(this.dir, 'index.txt')}\nnew_certs_dir=${this.dir}\nserial=${join(this.dir, 'serial')}\ndefault_md=sha256\npolicy=any\nunique_subject=no\n[any]\ncommonName=supplied\n`);
      writeFileSync(join(this.dir, 'serial'), '1000\n');
      openssl(['ca', '-batch', '-config', join(this.dir, 'ca.cnf'), '-cert', this.certPath, '-keyfile', this.keyPath, '-in', `${base}.csr`, '-out', certPath, '-startdate', date(-startDays), '-enddate', date(-startDays + days), '-extfile', `${base}.ext`, '-notext']);
    }
    return { certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
  }
}
