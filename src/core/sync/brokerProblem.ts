/**
 * Why a connection to the broker failed, in words a technician can act on.
 * Node reports TLS failures with OpenSSL's own text
 * (`ssl3_read_bytes:sslv3 alert certificate expired:../deps/...`); the common
 * ones are named here, with the config key or file to look at, and the raw
 * code is kept beside the words for whoever searches for it.
 */

/** What the link knows about its own TLS set-up, to name in the explanation. */
export interface LinkTlsFacts {
  /** The config's file names (`sync.tls`), as the technician wrote them. */
  files: { ca?: string; cert?: string; key?: string };
  /** This gate's client certificate's validity, when it has one. */
  certificate?: { validFrom: Date; validTo: Date };
}

export interface BrokerProblem {
  /** One sentence: what went wrong and what to do. */
  text: string;
  /** Node's or OpenSSL's code (`ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED`, `ECONNREFUSED`, an MQTT CONNACK code), or `unknown`. */
  code: string;
}

/** MQTT 3.1.1 CONNACK return codes and MQTT 5 reason codes that refuse a connection. */
const CONNACK_REFUSALS: Record<number, string> = {
  1: 'it does not speak this MQTT protocol version',
  2: 'it rejected the client id',
  3: 'it is unavailable',
  4: 'it rejected the user name or password',
  5: 'this gate is not authorised: the broker must admit the identity in its certificate',
  133: 'it rejected the client id',
  134: 'it rejected the user name or password',
  135: 'this gate is not authorised: the broker must admit the identity in its certificate',
  136: 'it is unavailable',
  137: 'it is busy',
  138: 'this gate is banned',
};

const NOT_SIGNED_BY_CA = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

function day(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

function where(url: string): { host: string; port: string; tls: boolean } {
  try {
    const parsed = new URL(url);
    const tls = parsed.protocol === 'mqtts:' || parsed.protocol === 'wss:';
    return { host: parsed.hostname, port: parsed.port || (tls ? '8883' : '1883'), tls };
  } catch {
    return { host: url, port: '?', tls: false };
  }
}

/** The explanation of one failed connection attempt (or of a lost connection). */
export function explainBrokerError(error: unknown, url: string, tls: LinkTlsFacts, nowMs: number): BrokerProblem {
  const raw = error as { code?: unknown; reason?: unknown; message?: unknown } | undefined;
  const code = typeof raw?.code === 'string' || typeof raw?.code === 'number' ? String(raw.code) : 'unknown';
  const text = explain(code, raw, url, tls, nowMs);
  return { text, code };
}

function explain(code: string, raw: { reason?: unknown; message?: unknown } | undefined, url: string, tls: LinkTlsFacts, nowMs: number): string {
  const { host, port, tls: overTls } = where(url);
  const { ca, cert, key } = tls.files;
  const own = tls.certificate;
  const caText = ca ? `the CA in ${ca} (sync.tls.ca)` : 'any CA this system trusts (no sync.tls.ca is set: name the fleet CA file there)';
  const certText = cert ? `this gate's certificate (${cert})` : "this gate's certificate";
  const now = new Date(nowMs);
  const renew = 'have it signed again and install it with "citygate provision install-cert"';

  if (NOT_SIGNED_BY_CA.has(code)) return `the broker's certificate is not signed by ${caText}`;
  if (/^\d+$/.test(code) && CONNACK_REFUSALS[Number(code)]) return `the broker at ${host}:${port} refused the connection: ${CONNACK_REFUSALS[Number(code)]}`;
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return `the broker's certificate has expired by this gate's clock (${day(now)}): have the broker's certificate renewed, or set this gate's clock if it is wrong`;
    case 'CERT_NOT_YET_VALID':
      return `the broker's certificate is not valid yet by this gate's clock (${day(now)}): check this gate's clock`;
    case 'CERT_REVOKED':
      return "the broker's certificate has been revoked";
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the broker's certificate is not made out for ${host}, the host in sync.broker: use the name the certificate carries, or have it reissued for ${host}`;
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED':
      if (own && own.validTo.getTime() <= nowMs) return `the broker refused ${certText}: it expired on ${day(own.validTo)}; ${renew}`;
      return `the broker refused ${certText} as expired${own ? `, though it is valid until ${day(own.validTo)} by this gate's clock: check the broker's clock` : ''}`;
    case 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA':
      return `the broker refused ${certText}: it is not signed by a CA the broker trusts; ${renew}`;
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED':
      return `the broker refused ${certText}: it has been revoked; ask fleet ops`;
    case 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED':
      return cert ? `the broker did not receive ${certText}` : 'the broker requires a client certificate and none is configured (sync.tls.cert and sync.tls.key; see "citygate provision install-cert")';
    case 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE':
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN':
    case 'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE':
      if (own && own.validFrom.getTime() > nowMs) return `the broker refused ${certText}: it is valid only from ${day(own.validFrom)}; check the clocks of this gate and the broker`;
      if (own && own.validTo.getTime() <= nowMs) return `the broker refused ${certText}: it expired on ${day(own.validTo)}; ${renew}`;
      return `the broker refused ${certText} as a bad certificate; ${renew}`;
    case 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE':
      return cert ? 'the broker refused the TLS handshake (no protocol version or cipher in common)' : 'the broker refused the TLS handshake: it may require a client certificate, and none is configured (sync.tls.cert)';
    case 'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR':
      return `the broker could not verify this gate's key: ${key ?? 'the key'} (sync.tls.key) does not belong to ${cert ?? 'the certificate'}`;
    case 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION':
    case 'ERR_SSL_UNSUPPORTED_PROTOCOL':
      return 'the broker and this gate have no TLS version in common';
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
      return `${host}:${port} does not speak TLS: use the broker's TLS port, or mqtt:// if that port is plain MQTT`;
    case 'ERR_OSSL_X509_KEY_VALUES_MISMATCH':
      return `this gate's key${key ? ` ${key}` : ''} (sync.tls.key) does not belong to its certificate${cert ? ` ${cert}` : ''} (sync.tls.cert): install the certificate signed for this key`;
    case 'ERR_OSSL_PEM_NO_START_LINE':
    case 'ERR_OSSL_PEM_BAD_BASE64_DECODE':
    case 'ERR_OSSL_UNSUPPORTED':
      return `a TLS file (sync.tls: ${[ca, cert, key].filter(Boolean).join(', ')}) is not a PEM certificate or key`;
    case 'ECONNREFUSED':
      return `nothing listens at ${host}:${port}: the broker is down, or sync.broker names the wrong port`;
    case 'ENOTFOUND':
      return `the broker's host name ${host} does not resolve: check sync.broker and this gate's DNS`;
    case 'EAI_AGAIN':
      return `the broker's host name ${host} could not be looked up now (DNS not answering)`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENETDOWN':
      return `no route to ${host}:${port} (${code}): check this gate's network`;
    case 'ECONNRESET':
    case 'EPIPE':
      return overTls
        ? `${host}:${port} closed the connection: the broker went away, or that port does not speak TLS`
        : `${host}:${port} closed the connection: the broker went away, or that port wants TLS (mqtts://)`;
  }
  const message = typeof raw?.message === 'string' ? raw.message : String(raw);
  if (message === 'connack timeout') return `${host}:${port} took the connection but did not answer MQTT within the connect timeout`;
  if (message === 'Keepalive timeout') return `the broker at ${host}:${port} stopped answering (keepalive timeout)`;
  // An OpenSSL message carries its source file and line; its `reason` is the part that means something.
  const words = typeof raw?.reason === 'string' && raw.reason ? raw.reason : message.split('\n')[0]!.replace(/^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:/, '').replace(/:\.\.\/deps\/.*$/, '');
  return `connection to ${host}:${port} failed: ${words}`;
}
