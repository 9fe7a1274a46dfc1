import fs from 'node:fs';
import type tls from 'node:tls';

/** TLS settings of a connection: node:tls options (CA, client certificate and key, host name check). */
export type SslOptions = Pick<
  tls.ConnectionOptions,
  | 'ca'
  | 'cert'
  | 'key'
  | 'passphrase'
  | 'rejectUnauthorized'
  | 'servername'
  | 'checkServerIdentity'
  | 'minVersion'
>;

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export interface SaslOptions {
  readonly mechanism: SaslMechanism;
  readonly username: string;
  readonly password: string;
}

/** How a client reaches a secured cluster; nothing set is PLAINTEXT. */
export interface SecurityOptions {
  /** SSL and SASL_SSL: true for the system's CAs, or node:tls options. */
  readonly ssl?: boolean | SslOptions;
  /** SASL_PLAINTEXT and SASL_SSL. */
  readonly sasl?: SaslOptions;
}

/** The client settings, by Kafka's (librdkafka's) names, that say how to reach a secured cluster. */
export const SECURITY_PROPERTY_KEYS: readonly string[] = [
  'security.protocol',
  'sasl.mechanism',
  'sasl.username',
  'sasl.password',
  'ssl.ca.location',
  'ssl.certificate.location',
  'ssl.key.location',
  'ssl.key.password',
  'ssl.endpoint.identification.algorithm',
];

/** Settings whose values must never be printed. */
export const SECRET_PROPERTY_KEYS: ReadonlySet<string> = new Set(['sasl.password', 'ssl.key.password']);

const ENV_REFERENCE = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/;

/**
 * Reads security.protocol and its sasl.* and ssl.* settings (librdkafka's names, which kcat
 * and confluent-kafka take too) into SecurityOptions, reading the PEM files. A secret may be
 * given as `${env:NAME}` (Kafka's EnvVarConfigProvider syntax), so config files need not
 * hold it. `fail` reports a setting that cannot be used, by key; messages never hold a password.
 */
export function securityFromProperties(
  props: Readonly<Record<string, string | undefined>>,
  fail: (key: string, problem: string) => never,
): SecurityOptions {
  const secret = (key: string): string | undefined => {
    const value = props[key];
    const reference = ENV_REFERENCE.exec(value ?? '');
    if (reference === null) return value;
    const resolved = process.env[reference[1]];
    if (resolved === undefined || resolved === '')
      fail(key, `names the environment variable ${reference[1]}, which is not set`);
    return resolved;
  };
  const protocol = (props['security.protocol'] ?? 'PLAINTEXT').toUpperCase();
  if (!['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'].includes(protocol))
    fail('security.protocol', `must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, not "${protocol}"`);
  const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const usesSasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
  for (const k of ['sasl.mechanism', 'sasl.username', 'sasl.password'])
    if (!usesSasl && props[k] !== undefined) fail(k, `is set but security.protocol is ${protocol}`);
  for (const k of SECURITY_PROPERTY_KEYS.filter((k) => k.startsWith('ssl.')))
    if (!usesTls && props[k] !== undefined) fail(k, `is set but security.protocol is ${protocol}`);
  const read = (key: string): Buffer | undefined => {
    const file = props[key];
    if (file === undefined) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (err) {
      return fail(
        key,
        `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  };
  let ssl: SecurityOptions['ssl'];
  if (usesTls) {
    const cert = read('ssl.certificate.location');
    const key = read('ssl.key.location');
    if ((cert === undefined) !== (key === undefined))
      fail(
        cert === undefined ? 'ssl.certificate.location' : 'ssl.key.location',
        'is needed with the other (a client certificate and its key)',
      );
    const identification = (props['ssl.endpoint.identification.algorithm'] ?? 'https').toLowerCase();
    if (identification !== 'https' && identification !== 'none' && identification !== '')
      fail('ssl.endpoint.identification.algorithm', 'must be https or none');
    ssl = {
      ca: read('ssl.ca.location'),
      cert,
      key,
      passphrase: secret('ssl.key.password'),
      ...(identification === 'https' ? {} : { checkServerIdentity: () => undefined }),
    };
  }
  let sasl: SaslOptions | undefined;
  if (usesSasl) {
    const mechanism = (props['sasl.mechanism'] ?? 'PLAIN').toUpperCase();
    if (mechanism !== 'PLAIN' && mechanism !== 'SCRAM-SHA-256' && mechanism !== 'SCRAM-SHA-512')
      fail('sasl.mechanism', `must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, not "${mechanism}"`);
    const username = props['sasl.username'];
    const password = secret('sasl.password');
    if (username === undefined || username === '') fail('sasl.username', `is required with ${protocol}`);
    if (password === undefined || password === '') fail('sasl.password', `is required with ${protocol}`);
    sasl = {
      mechanism,
      username,
      password,
    };
  }
  return { ssl, sasl };
}
