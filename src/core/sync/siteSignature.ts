import { createPrivateKey, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';

/*
 * Site messages signed by the sending gate's device key and checked against
 * the fleet's device CA (docs/security.md): a gate of the site can then only
 * speak for itself, and every key it shares is counted against it. The
 * signature covers the exact body bytes, with a context prefix so that no
 * other use of the device key (its TLS handshakes) can be replayed as one.
 */

const CONTEXT = Buffer.from('citygate site used v2\n');
/** Verified sender certificates kept by fingerprint, so a regular sender costs one ECDSA verification per message. */
const CERT_CACHE = 256;

export interface SignedEnvelope {
  v: 2;
  /** The JSON of `{gate, used}`, signed as these bytes. */
  body: string;
  /** The sender's device certificate, DER, base64. */
  cert: string;
  /** ECDSA (or the certificate key's own scheme) over CONTEXT ‖ body, base64. */
  sig: string;
}

function signatureInput(body: string): Buffer {
  return Buffer.concat([CONTEXT, Buffer.from(body, 'utf8')]);
}

/** The PEM certificates in `pem` (a CA file may hold several). */
export function certificatesIn(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

/** The CN of a certificate subject, or undefined. */
function commonName(cert: X509Certificate): string | undefined {
  const line = cert.subject.split('\n').find((part) => part.startsWith('CN='));
  return line?.slice(3);
}

export class SiteSigner {
  private readonly certB64: string;
  private readonly key: KeyObject;

  constructor(certPem: string, keyPem: string) {
    const [cert] = certificatesIn(certPem);
    if (!cert) throw new Error('the client certificate file holds no certificate');
    this.certB64 = cert.raw.toString('base64');
    this.key = createPrivateKey(keyPem);
  }

  envelope(body: string): SignedEnvelope {
    return { v: 2, body, cert: this.certB64, sig: sign('sha256', signatureInput(body), this.key).toString('base64') };
  }
}

export type SenderCheck = { ok: true; gate: string } | { ok: false; reason: string };

/** Checks a signed envelope: a device certificate issued by the fleet's device CA, valid now, and its signature over the body. */
export class SiteSenderCheck {
  private readonly known = new Map<string, { gate: string; cert: X509Certificate; notBefore: number; notAfter: number }>();

  constructor(
    private readonly cas: readonly X509Certificate[],
    private readonly now: () => number,
  ) {}

  check(envelope: SignedEnvelope): SenderCheck {
    const sender = this.sender(envelope.cert);
    if ('reason' in sender) return { ok: false, reason: sender.reason };
    const nowMs = this.now();
    if (nowMs < sender.notBefore || nowMs > sender.notAfter) return { ok: false, reason: `the certificate of ${sender.gate} is not valid now (${sender.cert.validFrom} to ${sender.cert.validTo})` };
    let good = false;
    try {
      good = verify('sha256', signatureInput(envelope.body), sender.cert.publicKey, Buffer.from(envelope.sig, 'base64'));
    } catch {
      good = false;
    }
    return good ? { ok: true, gate: sender.gate } : { ok: false, reason: `bad signature for ${sender.gate}` };
  }

  private sender(certB64: string): { gate: string; cert: X509Certificate; notBefore: number; notAfter: number } | { reason: string } {
    const known = this.known.get(certB64);
    if (known) return known;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(Buffer.from(certB64, 'base64'));
    } catch {
      return { reason: 'not a certificate' };
    }
    if (!this.cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) return { reason: `certificate ${cert.subject.replace(/\n/g, ', ')} is not issued by the fleet's device CA` };
    // A broker's server certificate from the same CA is not a gate.
    if (cert.keyUsage !== undefined && !cert.keyUsage.includes('1.3.6.1.5.5.7.3.2')) return { reason: 'the certificate is not a client certificate' };
    const gate = commonName(cert);
    if (!gate) return { reason: 'the certificate names no gate (no CN)' };
    const entry = { gate, cert, notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
    if (this.known.size >= CERT_CACHE) this.known.delete(this.known.keys().next().value!);
    this.known.set(certB64, entry);
    return entry;
  }
}
