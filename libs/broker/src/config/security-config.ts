import fs from 'node:fs';
import tls from 'node:tls';
import type { ConfigKeyDef, Listener } from './broker-config';
import { ConfigError } from './config-error';
import { parseJaasConfig, type JaasConfig } from '../security/jaas';
import { parsePrincipalMappingRules, type PrincipalMapper } from '../security/principal';

/** Kafka's security protocols of a listener. */
export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
const PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

export type SaslMechanismName = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
const MECHANISMS: readonly SaslMechanismName[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** Kafka's two ACL authorizers (ZooKeeper-era and KRaft); either turns ours on. */
export const ACL_AUTHORIZER_NAMES: readonly string[] = [
  'kafka.security.authorizer.AclAuthorizer',
  'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
];

export type SslClientAuth = 'required' | 'requested' | 'none';

/** What a TLS listener serves with, read from the PEM files when the config is parsed. */
export interface TlsServerSettings {
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly ca: Buffer | null;
  readonly passphrase: string | undefined;
  readonly clientAuth: SslClientAuth;
  readonly minVersion: tls.SecureVersion;
  readonly maxVersion: tls.SecureVersion;
  readonly ciphers: string | undefined;
}

export interface ListenerSecurity {
  readonly name: string;
  readonly protocol: SecurityProtocol;
  /** SSL and SASL_SSL listeners. */
  readonly tls: TlsServerSettings | null;
  /** SASL_PLAINTEXT and SASL_SSL listeners: the mechanisms offered, in order. */
  readonly saslMechanisms: readonly SaslMechanismName[];
}

/** A SCRAM credential to create at start-up when the user has none for the mechanism (kafka-storage --add-scram). */
export interface ScramBootstrapCredential {
  readonly mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  readonly name: string;
  readonly password: string;
  readonly iterations: number;
}

/** How this broker connects to the others' inter-broker listener (replica fetchers). */
export interface InterBrokerClientSecurity {
  readonly protocol: SecurityProtocol;
  readonly tls: {
    readonly ca: Buffer | null;
    readonly cert: Buffer | null;
    readonly key: Buffer | null;
    readonly passphrase: string | undefined;
    readonly verifyHostname: boolean;
  } | null;
  readonly sasl: {
    readonly mechanism: SaslMechanismName;
    readonly username: string;
    readonly password: string;
  } | null;
}

export interface SecurityConfig {
  readonly listeners: ReadonlyMap<string, ListenerSecurity>;
  readonly interBrokerListenerName: string;
  readonly interBroker: InterBrokerClientSecurity;
  /** sasl.jaas.config: PLAIN users and this broker's own login. */
  readonly jaas: JaasConfig;
  readonly scramBootstrap: readonly ScramBootstrapCredential[];
  readonly authorizerEnabled: boolean;
  readonly superUsers: ReadonlySet<string>;
  readonly allowEveryoneIfNoAclFound: boolean;
  readonly principalMapper: PrincipalMapper;
  readonly failedAuthenticationDelayMs: number;
  readonly saslServerMaxReceiveSize: number;
}

const key = (name: string, type: ConfigKeyDef['type'], def: string | null, doc: string): ConfigKeyDef => ({
  name,
  type,
  default: def,
  doc,
});

const DEFAULT_PROTOCOL_MAP = 'PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL';

/** Keys a listener may override as listener.name.<listener>.<key> (Kafka's listener prefix). */
export const PER_LISTENER_KEYS: ReadonlySet<string> = new Set([
  'ssl.keystore.location',
  'ssl.truststore.location',
  'ssl.key.location',
  'ssl.certificate.location',
  'ssl.ca.location',
  'ssl.key.password',
  'ssl.client.auth',
  'ssl.enabled.protocols',
  'ssl.cipher.suites',
  'sasl.enabled.mechanisms',
]);

/** Keys whose values are secrets: DescribeConfigs reports them as sensitive, with no value. */
export const SENSITIVE_KEYS: ReadonlySet<string> = new Set([
  // redis://:password@host:port may carry Redis' password
  'redis.url',
  'redis.password',
  'redis.sentinel.password',
  'sasl.jaas.config',
  'ssl.key.password',
  'sasl.scram.bootstrap.users',
]);

export function isSensitiveKey(name: string): boolean {
  if (SENSITIVE_KEYS.has(name)) return true;
  const prefixed = /^listener\.name\.[^.]+\.(.+)$/.exec(name);
  return prefixed !== null && SENSITIVE_KEYS.has(prefixed[1]);
}

/** Whether a key is a listener-prefixed override of a per-listener key. */
export function isListenerPrefixedKey(name: string): boolean {
  const m = /^listener\.name\.([a-z0-9_]+)\.(.+)$/.exec(name);
  return m !== null && PER_LISTENER_KEYS.has(m[2]);
}

export const SECURITY_CONFIG_KEYS: readonly ConfigKeyDef[] = [
  key(
    'listener.security.protocol.map',
    'list',
    DEFAULT_PROTOCOL_MAP,
    'Security protocol of each listener name, NAME:PROTOCOL (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL).',
  ),
  key(
    'inter.broker.listener.name',
    'string',
    null,
    'Listener the brokers of a cluster replicate through; default: the first listener.',
  ),
  key(
    'ssl.keystore.location',
    'string',
    null,
    'PEM file with the private key and certificate chain (Kafka PEM keystore).',
  ),
  key(
    'ssl.truststore.location',
    'string',
    null,
    'PEM file of trusted CA certificates (Kafka PEM truststore).',
  ),
  key('ssl.key.location', 'string', null, 'PEM file of the private key (with ssl.certificate.location).'),
  key('ssl.certificate.location', 'string', null, 'PEM file of the certificate chain.'),
  key(
    'ssl.ca.location',
    'string',
    null,
    'PEM file of trusted CA certificates (client certificates, other brokers).',
  ),
  key('ssl.key.password', 'password', null, 'Password of an encrypted private key.'),
  key(
    'ssl.client.auth',
    'string',
    'none',
    'Client certificates on SSL listeners: required, requested or none.',
  ),
  key('ssl.enabled.protocols', 'list', 'TLSv1.2,TLSv1.3', 'TLS versions accepted.'),
  key('ssl.cipher.suites', 'list', null, 'OpenSSL cipher list; default: Node.js defaults.'),
  key(
    'ssl.endpoint.identification.algorithm',
    'string',
    'https',
    "How a broker checks another broker's certificate: https (host name) or empty (CA only).",
  ),
  key(
    'ssl.principal.mapping.rules',
    'string',
    'DEFAULT',
    "Rules from a client certificate's distinguished name to a user name: DEFAULT or RULE:pattern/replacement/[LU], ...",
  ),
  key(
    'sasl.enabled.mechanisms',
    'list',
    'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    'SASL mechanisms offered on SASL listeners: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512.',
  ),
  key(
    'sasl.mechanism.inter.broker.protocol',
    'string',
    'PLAIN',
    'SASL mechanism a broker logs in to others with, when the inter-broker listener uses SASL.',
  ),
  key(
    'sasl.jaas.config',
    'password',
    null,
    'JAAS login: username/password this broker logs in with; user_NAME="password" entries are the PLAIN users.',
  ),
  key(
    'sasl.scram.bootstrap.users',
    'password',
    null,
    'SCRAM credentials created at start when missing: SCRAM-SHA-256=[name=admin,password=secret];...',
  ),
  key(
    'sasl.server.max.receive.size',
    'int',
    '524288',
    'Largest frame accepted before a client has authenticated.',
  ),
  key(
    'connection.failed.authentication.delay.ms',
    'int',
    '100',
    'How long a failed authentication waits before it is answered and the connection closed; it doubles with each further failure from the same address within a minute (until one succeeds), up to 64 times this.',
  ),
  key(
    'authorizer.class.name',
    'string',
    '',
    `ACL authorizer: ${ACL_AUTHORIZER_NAMES.join(' or ')}; empty: none.`,
  ),
  key(
    'super.users',
    'string',
    '',
    'Principals allowed everything, separated by ";" (User:admin;User:broker).',
  ),
  key(
    'allow.everyone.if.no.acl.found',
    'boolean',
    'false',
    'Whether a resource with no ACL at all is open to everyone.',
  ),
];

type Getter = (name: string) => string | null;
type Origin = (name: string) => string;

function readPem(file: string, source: string, name: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new ConfigError(
      source,
      name,
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

function tlsVersions(
  value: string,
  source: string,
  name: string,
): { min: tls.SecureVersion; max: tls.SecureVersion } {
  const order: tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
  const listed = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const indexes = listed.map((v) => {
    const i = order.indexOf(v as tls.SecureVersion);
    if (i < 0) throw new ConfigError(source, name, `"${v}" is not one of ${order.join(', ')}`);
    return i;
  });
  if (indexes.length === 0) throw new ConfigError(source, name, 'is empty');
  return { min: order[Math.min(...indexes)], max: order[Math.max(...indexes)] };
}

/** Reads a listener's TLS settings: listener.name.<listener>.<key> first, then <key>. */
function tlsSettings(
  listener: string,
  protocol: SecurityProtocol,
  get: Getter,
  origin: Origin,
): TlsServerSettings {
  const prefixed = (k: string) => `listener.name.${listener.toLowerCase()}.${k}`;
  const pick = (k: string): { name: string; value: string | null } => {
    const p = get(prefixed(k));
    return p !== null ? { name: prefixed(k), value: p } : { name: k, value: get(k) };
  };
  const keystore = pick('ssl.keystore.location');
  const keyFile = pick('ssl.key.location');
  const certFile = pick('ssl.certificate.location');
  let keyPem: Buffer;
  let certPem: Buffer;
  if (keyFile.value !== null || certFile.value !== null) {
    if (keyFile.value === null || certFile.value === null) {
      const missing = keyFile.value === null ? keyFile : certFile;
      throw new ConfigError(
        origin(missing.name),
        missing.name,
        `is required by ${listener} (${protocol}) with the other`,
      );
    }
    keyPem = readPem(keyFile.value, origin(keyFile.name), keyFile.name);
    certPem = readPem(certFile.value, origin(certFile.name), certFile.name);
  } else if (keystore.value !== null) {
    keyPem = certPem = readPem(keystore.value, origin(keystore.name), keystore.name);
  } else {
    throw new ConfigError(
      origin('listeners'),
      'ssl.keystore.location',
      `listener ${listener} is ${protocol}: set ssl.key.location and ssl.certificate.location (or ssl.keystore.location)`,
    );
  }
  const caFile =
    pick('ssl.ca.location').value !== null ? pick('ssl.ca.location') : pick('ssl.truststore.location');
  const ca = caFile.value === null ? null : readPem(caFile.value, origin(caFile.name), caFile.name);
  const password = pick('ssl.key.password').value ?? undefined;
  // Kafka applies ssl.client.auth to SASL_SSL listeners only when it is set with the listener prefix.
  const authKey =
    protocol === 'SASL_SSL'
      ? { name: prefixed('ssl.client.auth'), value: get(prefixed('ssl.client.auth')) }
      : pick('ssl.client.auth');
  const clientAuth = (authKey.value ?? 'none').toLowerCase();
  if (clientAuth !== 'required' && clientAuth !== 'requested' && clientAuth !== 'none')
    throw new ConfigError(
      origin(authKey.name),
      authKey.name,
      `"${authKey.value}" is not required, requested or none`,
    );
  if (clientAuth !== 'none' && ca === null)
    throw new ConfigError(
      origin(authKey.name),
      'ssl.ca.location',
      `client certificates (${authKey.name}=${clientAuth}) need the CA that signs them`,
    );
  const protocols = pick('ssl.enabled.protocols');
  const versions = tlsVersions(protocols.value as string, origin(protocols.name), protocols.name);
  const ciphers = pick('ssl.cipher.suites').value?.replace(/,/g, ':') ?? undefined;
  try {
    tls.createSecureContext({
      key: keyPem,
      cert: certPem,
      ca: ca ?? undefined,
      passphrase: password,
      ciphers,
    });
  } catch (err) {
    // OpenSSL's reason (a key that does not match, a wrong password), never the material itself.
    throw new ConfigError(
      origin(keyFile.value !== null ? keyFile.name : keystore.name),
      keyFile.value !== null ? keyFile.name : keystore.name,
      `cannot be used for ${listener}: ${(err as Error).message}`,
    );
  }
  return {
    key: keyPem,
    cert: certPem,
    ca,
    passphrase: password,
    clientAuth,
    minVersion: versions.min,
    maxVersion: versions.max,
    ciphers,
  };
}

function parseMechanisms(value: string, source: string, name: string): SaslMechanismName[] {
  const list = value
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s !== '');
  for (const m of list) {
    if (!MECHANISMS.includes(m as SaslMechanismName))
      throw new ConfigError(source, name, `${m} is not supported (supported: ${MECHANISMS.join(', ')})`);
  }
  if (list.length === 0) throw new ConfigError(source, name, 'is empty');
  return list as SaslMechanismName[];
}

/** Splits on commas and semicolons outside brackets: SCRAM-SHA-256=[name=a,password=b],SCRAM-SHA-512=[...]. */
function splitOutsideBrackets(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of value) {
    if (ch === '[') depth++;
    if (ch === ']') depth = Math.max(0, depth - 1);
    if ((ch === ',' || ch === ';') && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  out.push(current.trim());
  return out.filter((s) => s !== '');
}

/** kafka-storage's --add-scram form; messages never repeat the value (it holds passwords). */
export function parseScramBootstrap(value: string, source: string, name: string): ScramBootstrapCredential[] {
  return splitOutsideBrackets(value).map((entry, i) => {
    const m = /^(SCRAM-SHA-256|SCRAM-SHA-512)=\[(.*)\]$/s.exec(entry);
    if (m === null)
      throw new ConfigError(
        source,
        name,
        `entry ${i + 1} is not SCRAM-SHA-256=[name=...,password=...] (or SCRAM-SHA-512)`,
      );
    const fields = new Map<string, string>();
    for (const part of m[2].split(',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw new ConfigError(source, name, `entry ${i + 1} has a field without "="`);
      let v = part.slice(eq + 1).trim();
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      fields.set(part.slice(0, eq).trim(), v);
    }
    for (const f of fields.keys())
      if (f !== 'name' && f !== 'password' && f !== 'iterations')
        throw new ConfigError(
          source,
          name,
          `entry ${i + 1}: unknown field ${f} (known: name, password, iterations)`,
        );
    const user = fields.get('name');
    const password = fields.get('password');
    if (user === undefined || user === '' || password === undefined || password === '')
      throw new ConfigError(source, name, `entry ${i + 1} needs a name and a password`);
    const iterations = Number(fields.get('iterations') ?? 4096);
    if (!Number.isSafeInteger(iterations) || iterations < 4096 || iterations > 16384)
      throw new ConfigError(source, name, `entry ${i + 1}: iterations must be 4096 to 16384`);
    return { mechanism: m[1] as ScramBootstrapCredential['mechanism'], name: user, password, iterations };
  });
}

/** super.users: principals separated by ";" (Kafka's form, since a certificate's name holds commas). */
export function parseSuperUsers(value: string, source: string): Set<string> {
  const out = new Set<string>();
  for (const p of value.split(';').map((s) => s.trim())) {
    if (p === '') continue;
    if (!/^[A-Za-z]+:.+$/.test(p))
      throw new ConfigError(source, 'super.users', `"${p}" is not a principal TYPE:NAME (User:admin)`);
    out.add(p);
  }
  return out;
}

/**
 * The security settings: each listener's protocol, TLS material and SASL mechanisms, the
 * inter-broker listener and how to log in to it, SASL users, and the authorizer. Files are
 * read here, so a broker that cannot use its certificate stops at start naming the key.
 */
export function parseSecurityConfig(
  listeners: readonly Listener[],
  get: Getter,
  origin: Origin,
): SecurityConfig {
  const mapSource = origin('listener.security.protocol.map');
  const protocolMap = new Map<string, SecurityProtocol>();
  for (const entry of (get('listener.security.protocol.map') as string).split(',').map((s) => s.trim())) {
    if (entry === '') continue;
    const m = /^([A-Za-z0-9_]+):([A-Za-z_]+)$/.exec(entry);
    if (m === null)
      throw new ConfigError(mapSource, 'listener.security.protocol.map', `"${entry}" is not NAME:PROTOCOL`);
    const protocol = m[2].toUpperCase() as SecurityProtocol;
    if (!PROTOCOLS.includes(protocol))
      throw new ConfigError(
        mapSource,
        'listener.security.protocol.map',
        `${m[2]} is not one of ${PROTOCOLS.join(', ')}`,
      );
    protocolMap.set(m[1].toUpperCase(), protocol);
  }
  const names = new Set<string>();
  const out = new Map<string, ListenerSecurity>();
  for (const l of listeners) {
    if (names.has(l.name))
      throw new ConfigError(origin('listeners'), 'listeners', `listener ${l.name} is given twice`);
    names.add(l.name);
    const protocol = protocolMap.get(l.name);
    if (protocol === undefined)
      throw new ConfigError(
        mapSource,
        'listener.security.protocol.map',
        `has no protocol for listener ${l.name}`,
      );
    const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL';
    const usesSasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
    const mechKey = `listener.name.${l.name.toLowerCase()}.sasl.enabled.mechanisms`;
    const mechanisms = !usesSasl
      ? []
      : get(mechKey) !== null
        ? parseMechanisms(get(mechKey) as string, origin(mechKey), mechKey)
        : parseMechanisms(
            get('sasl.enabled.mechanisms') as string,
            origin('sasl.enabled.mechanisms'),
            'sasl.enabled.mechanisms',
          );
    out.set(l.name, {
      name: l.name,
      protocol,
      tls: usesTls ? tlsSettings(l.name, protocol, get, origin) : null,
      saslMechanisms: mechanisms,
    });
  }
  const interName = (get('inter.broker.listener.name') ?? listeners[0].name).toUpperCase();
  const inter = out.get(interName);
  if (inter === undefined)
    throw new ConfigError(
      origin('inter.broker.listener.name'),
      'inter.broker.listener.name',
      `${interName} is not one of the listeners (${[...names].join(', ')})`,
    );
  const jaasValue = get('sasl.jaas.config');
  const jaas = parseJaasConfig(jaasValue ?? '', origin('sasl.jaas.config'));
  let interSasl: InterBrokerClientSecurity['sasl'] = null;
  if (inter.protocol === 'SASL_PLAINTEXT' || inter.protocol === 'SASL_SSL') {
    const mech = (get('sasl.mechanism.inter.broker.protocol') as string).toUpperCase() as SaslMechanismName;
    if (!inter.saslMechanisms.includes(mech))
      throw new ConfigError(
        origin('sasl.mechanism.inter.broker.protocol'),
        'sasl.mechanism.inter.broker.protocol',
        `${mech} is not enabled on the inter-broker listener ${interName} (${inter.saslMechanisms.join(', ')})`,
      );
    if (jaas.username === null || jaas.password === null)
      throw new ConfigError(
        origin('sasl.jaas.config'),
        'sasl.jaas.config',
        `needs username and password: the inter-broker listener ${interName} is ${inter.protocol}`,
      );
    interSasl = { mechanism: mech, username: jaas.username, password: jaas.password };
  }
  const interTls = inter.tls;
  const bootstrapValue = get('sasl.scram.bootstrap.users');
  const delay = Number(get('connection.failed.authentication.delay.ms'));
  if (delay < 0)
    throw new ConfigError(
      origin('connection.failed.authentication.delay.ms'),
      'connection.failed.authentication.delay.ms',
      'must be 0 or more',
    );
  const maxReceive = Number(get('sasl.server.max.receive.size'));
  if (maxReceive < 1)
    throw new ConfigError(
      origin('sasl.server.max.receive.size'),
      'sasl.server.max.receive.size',
      'must be at least 1',
    );
  const authorizer = (get('authorizer.class.name') ?? '').trim();
  if (authorizer !== '' && !ACL_AUTHORIZER_NAMES.includes(authorizer))
    throw new ConfigError(
      origin('authorizer.class.name'),
      'authorizer.class.name',
      `"${authorizer}" is not one of ${ACL_AUTHORIZER_NAMES.join(', ')} (or empty)`,
    );
  const identification = (get('ssl.endpoint.identification.algorithm') ?? '').trim().toLowerCase();
  if (identification !== '' && identification !== 'https')
    throw new ConfigError(
      origin('ssl.endpoint.identification.algorithm'),
      'ssl.endpoint.identification.algorithm',
      'must be https or empty',
    );
  return {
    listeners: out,
    interBrokerListenerName: interName,
    interBroker: {
      protocol: inter.protocol,
      tls:
        interTls === null
          ? null
          : {
              ca: interTls.ca,
              cert: interTls.cert,
              key: interTls.key,
              passphrase: interTls.passphrase,
              verifyHostname: identification === 'https',
            },
      sasl: interSasl,
    },
    jaas,
    scramBootstrap:
      bootstrapValue === null
        ? []
        : parseScramBootstrap(
            bootstrapValue,
            origin('sasl.scram.bootstrap.users'),
            'sasl.scram.bootstrap.users',
          ),
    authorizerEnabled: authorizer !== '',
    superUsers: parseSuperUsers(get('super.users') ?? '', origin('super.users')),
    allowEveryoneIfNoAclFound: get('allow.everyone.if.no.acl.found') === 'true',
    principalMapper: parsePrincipalMappingRules(
      get('ssl.principal.mapping.rules') as string,
      origin('ssl.principal.mapping.rules'),
    ),
    failedAuthenticationDelayMs: delay,
    saslServerMaxReceiveSize: maxReceive,
  };
}
