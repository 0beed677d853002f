import { createPrivateKey, X509Certificate } from 'node:crypto';

/** A client certificate ending within this many days is a warning, at start, in `status` and in `selftest` (docs/field-ops.md): have it renewed. */
export const CERT_RENEW_DAYS = 30;

export interface CertificateStanding {
  /** `ok`: nothing to say; `warn`: it ends soon; `error`: the broker will refuse it. */
  level: 'ok' | 'warn' | 'error';
  /** Short, for the "gate ready" line: `valid until …`, `expired on …`. */
  summary: string;
  /** What a technician reads in the log, and what to do. */
  text: string;
}

function day(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

/**
 * The gate's own TLS client certificate judged at start, so that an expired or
 * not-yet-valid certificate (or a key that is not its own) is said once in
 * words, instead of only as the broker's refusals. The gate serves offline
 * whatever this says.
 */
export function deviceCertificateStanding(pem: { cert: string; key?: string | undefined }, paths: { cert: string; key?: string | undefined }, nowMs: number, clockTrusted: boolean): CertificateStanding {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem.cert);
  } catch (error) {
    return { level: 'error', summary: 'unreadable', text: `this gate's certificate ${paths.cert} (sync.tls.cert) is not a PEM certificate (${(error as Error).message}): the broker link cannot work; the gate serves offline` };
  }
  if (pem.key !== undefined) {
    let matches = false;
    try {
      matches = certificate.checkPrivateKey(createPrivateKey(pem.key));
    } catch {
      matches = false;
    }
    if (!matches) {
      return { level: 'error', summary: 'not for this key', text: `this gate's certificate ${paths.cert} (sync.tls.cert) is not for its key ${paths.key} (sync.tls.key): the broker link cannot work; the gate serves offline until the certificate signed for this key is installed (citygate provision install-cert)` };
    }
  }
  const validFrom = new Date(certificate.validFrom);
  const validTo = new Date(certificate.validTo);
  const clock = clockTrusted ? '' : ` (by this gate's clock, ${day(new Date(nowMs))}, which is not trusted yet: check it)`;
  const offline = 'the broker will refuse it, so the gate serves offline (taps are journaled and kept for upload)';
  if (validTo.getTime() <= nowMs) {
    return { level: 'error', summary: `expired on ${day(validTo)}`, text: `this gate's certificate ${paths.cert} expired on ${day(validTo)}${clock}: ${offline} until a renewed certificate is installed (citygate provision install-cert)` };
  }
  if (validFrom.getTime() > nowMs) {
    return { level: 'error', summary: `not valid until ${day(validFrom)}`, text: `this gate's certificate ${paths.cert} is not valid until ${day(validFrom)}${clock}: ${offline} until then; check this gate's clock` };
  }
  const days = Math.floor((validTo.getTime() - nowMs) / 86_400_000);
  if (days < CERT_RENEW_DAYS) {
    return { level: 'warn', summary: `valid until ${day(validTo)}`, text: `this gate's certificate ${paths.cert} expires on ${day(validTo)}, in ${days} day(s): have it renewed (citygate provision install-cert)` };
  }
  return { level: 'ok', summary: `valid until ${day(validTo)}`, text: '' };
}
