import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { configSchema } from '../../src/app/config.js';
import { readInputJson, readInputText } from '../../src/app/inputFile.js';
import { InputError, parseWith } from '../../src/app/settingsSchema.js';
import { redactUrl } from '../../src/core/sync/brokerUrl.js';

/** How a fleet tool or the collector is told where the broker is and how to prove itself to it. */
export interface BrokerFlags {
  broker?: string | undefined;
  /** PEM files: the CA that signed the broker's certificate, and this tool's client certificate and key. */
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  /** A JSON file `{"broker", "tls": {"ca", "cert", "key"}}`: the gate's `sync` settings; flags override it. */
  config?: string | undefined;
}

/** A broker to connect to, its TLS material read. */
export interface BrokerConnection {
  url: string;
  /** The URL with any user:password masked: the only form that goes into a message or a log line. */
  shown: string;
  /** PEM text, as mqtt.js takes it; empty for a plain or server-authenticated-only connection. */
  tls: { ca?: string; cert?: string; key?: string };
}

const BROKER_URL = /^(mqtts?|wss?|tcp|ssl):\/\/[^/\s]/;
const TLS_SCHEMES = /^(mqtts|wss|ssl):/;

// The gate's own `sync.broker` and `sync.tls` schemas (the files that reach the broker): one definition of what the settings mean.
const syncShape = configSchema.shape.sync.unwrap().shape;
const brokerFileSchema = z.strictObject({ broker: syncShape.broker.optional(), tls: syncShape.tls.unwrap().pick({ ca: true, cert: true, key: true }).optional() });

function readConfig(path: string): BrokerFlags {
  const file = parseWith(brokerFileSchema, readInputJson(path, 'broker config'), path);
  // Paths in the file are read from where the file is, so a fleet-ops directory can be moved whole.
  const near = (file?: string) => (file === undefined ? undefined : resolve(dirname(path), file));
  return { broker: file.broker, ca: near(file.tls?.ca), cert: near(file.tls?.cert), key: near(file.tls?.key) };
}

/**
 * The broker from `--broker`/`--ca`/`--cert`/`--key`, over what `--config`
 * says. Undefined when neither names a broker. Every file is read here, so a
 * wrong path fails the command before anything is signed or sent.
 */
export function brokerConnection(flags: BrokerFlags): BrokerConnection | undefined {
  const file = flags.config === undefined ? {} : readConfig(flags.config);
  const url = flags.broker ?? file.broker;
  const ca = flags.ca ?? file.ca;
  const cert = flags.cert ?? file.cert;
  const key = flags.key ?? file.key;
  if (url === undefined) {
    if (ca !== undefined || cert !== undefined || key !== undefined) throw new InputError('--ca, --cert and --key go with a broker: give --broker URL');
    return undefined;
  }
  const shown = redactUrl(url);
  if (!BROKER_URL.test(url)) throw new InputError(`--broker ${JSON.stringify(shown)} is not a broker URL such as mqtt://host:1883 or mqtts://host:8883`);
  if ((cert === undefined) !== (key === undefined)) throw new InputError('--cert and --key go together: the client certificate and its private key');
  if ((ca !== undefined || cert !== undefined) && !TLS_SCHEMES.test(url)) throw new InputError(`${shown} is not a TLS URL: use mqtts:// (or wss://) with --ca, --cert and --key`);
  const tls: BrokerConnection['tls'] = {};
  if (ca !== undefined) tls.ca = readInputText(ca, 'CA certificate');
  if (cert !== undefined) tls.cert = readInputText(cert, 'client certificate');
  if (key !== undefined) tls.key = readInputText(key, 'client key');
  return { url, shown, tls };
}

const UNTRUSTED_BROKER = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_SIGNATURE_FAILURE']);

/** Node's codes for what the broker or OpenSSL said, in words that name this tool's flags. */
const SAID: Record<string, string> = {
  CERT_HAS_EXPIRED: "the broker's certificate has expired (or this machine's clock is wrong)",
  CERT_NOT_YET_VALID: "the broker's certificate is not valid yet (or this machine's clock is wrong)",
  ERR_TLS_CERT_ALTNAME_INVALID: "the broker's certificate is not made out for the host in the URL",
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'the broker requires a client certificate: give --cert and --key',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: "the broker refused this client certificate: it is not signed by a CA the broker trusts",
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'the broker refused this client certificate',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'the broker refused this client certificate',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED: 'the broker refused this client certificate: it has expired',
  ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED: 'the broker refused this client certificate: it is revoked',
  ERR_SSL_WRONG_VERSION_NUMBER: 'that port does not speak TLS: use the TLS port, or mqtt:// for a plain one',
  ERR_OSSL_X509_KEY_VALUES_MISMATCH: '--key is not the private key of --cert',
  ERR_OSSL_PEM_NO_START_LINE: '--ca, --cert or --key is not a PEM file',
  ECONNREFUSED: 'nothing listens there: the broker is down, or the URL names the wrong port',
  ENOTFOUND: "the broker's host name does not resolve",
};

/** What went wrong reaching the broker, in words a fleet operator can act on; never OpenSSL's source-file text. */
export function describeBrokerError(error: Error & { code?: unknown }): string {
  const code = typeof error.code === 'string' ? error.code : '';
  if (UNTRUSTED_BROKER.has(code)) return `the broker's certificate is not signed by a CA this tool trusts: give the fleet's CA with --ca (${code})`;
  const said = SAID[code];
  if (said) return `${said} (${code})`;
  if (/certificate required/i.test(error.message)) return 'the broker requires a client certificate: give --cert and --key';
  // An OpenSSL message carries its source file and line after the part that means something.
  return error.message.split('\n')[0]!.replace(/^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:/, '').replace(/:\.\.\/deps\/.*$/, '');
}
