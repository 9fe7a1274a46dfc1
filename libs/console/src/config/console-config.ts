import crypto from 'node:crypto';
import fs from 'node:fs';
import { parse } from 'yaml';
import {
  SECRET_PROPERTY_KEYS,
  SECURITY_PROPERTY_KEYS,
  securityFromProperties,
  type ClientOptions,
  type SecurityOptions,
} from '@tributary/client';
import {
  MirrorConfigError,
  parseMirrorConfig,
  parseRedisEndpoint,
  readMirrorConfig,
  type MirrorConfig,
  type RedisEndpoint,
} from '@tributary/mirror';
import type { ConsoleSecurity, ConsoleToken } from '../auth/bearer-tokens';
import { CONSOLE_ROLES, isConsoleRole } from '../auth/roles';

/** One cluster the console shows: an alias, where to reach it, and client settings. */
export interface ClusterConfig {
  readonly alias: string;
  readonly bootstrapServers: readonly string[];
  /** Groups clusters on the topology map (a data center, a zone). */
  readonly datacenter: string | null;
  readonly client: ClusterClientSettings;
  /**
   * How to reach a secured cluster (TLS, SASL), from the client map's security.protocol,
   * sasl.* and ssl.* settings; absent for PLAINTEXT. Holds a password: never echo it.
   */
  readonly security?: SecurityOptions;
}

export interface ClusterClientSettings {
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly retries: number;
  readonly retryBackoffMs: number;
  readonly metadataMaxAgeMs: number;
}

export interface ConsoleConfig {
  readonly http: { readonly host: string; readonly port: number };
  readonly clusters: readonly ClusterConfig[];
  /** Bearer tokens with roles; null: the API is open (a demo, a laptop). */
  readonly security: ConsoleSecurity | null;
  /** The replicator deployment to attach to (its flows, and the Redis its workers share); null: none. */
  readonly mirror: ConsoleMirror | null;
}

export interface ConsoleMirror {
  readonly config: MirrorConfig;
  /** A URL, or the sentinels that name the primary. */
  readonly redis: RedisEndpoint;
}

/** A bad console config, naming the file (or source) and the key. */
export class ConsoleConfigError extends Error {
  constructor(
    readonly source: string,
    readonly key: string,
    problem: string,
  ) {
    super(`${source}: ${key} ${problem}`);
    this.name = 'ConsoleConfigError';
  }
}

/**
 * Client settings a cluster entry may set, by Kafka's names. A console answers people, so it
 * gives up sooner than a producer would: few retries, short timeouts.
 */
const CLIENT_KEYS: Record<string, { field: keyof ClusterClientSettings; min: number }> = {
  'client.id': { field: 'clientId', min: 0 },
  'request.timeout.ms': { field: 'requestTimeoutMs', min: 1 },
  'socket.connection.setup.timeout.ms': { field: 'connectTimeoutMs', min: 1 },
  retries: { field: 'retries', min: 0 },
  'retry.backoff.ms': { field: 'retryBackoffMs', min: 0 },
  'metadata.max.age.ms': { field: 'metadataMaxAgeMs', min: 0 },
};

export const DEFAULT_CLIENT_SETTINGS: ClusterClientSettings = {
  clientId: 'tributary-console',
  requestTimeoutMs: 10000,
  connectTimeoutMs: 3000,
  retries: 2,
  retryBackoffMs: 100,
  metadataMaxAgeMs: 30000,
};

const ALIAS = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$/;
const HOST_PORT = /^(\[[^\]]+\]|[^:\s,]+):(\d{1,5})$/;

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Parses bootstrap servers given as a list or a comma-separated string. */
export function parseBootstrapServers(value: unknown, source: string, key: string): string[] {
  const list =
    typeof value === 'string' ? value.split(',').map((s) => s.trim()) : Array.isArray(value) ? value : null;
  if (list === null || list.length === 0)
    throw new ConsoleConfigError(source, key, 'must be a list of host:port (or "host:port,host:port")');
  return list.map((s, i) => {
    const m = typeof s === 'string' ? HOST_PORT.exec(s) : null;
    if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65535)
      throw new ConsoleConfigError(source, `${key}[${i}]`, `must be host:port, got ${JSON.stringify(s)}`);
    return s as string;
  });
}

function parseCluster(entry: unknown, i: number, source: string): ClusterConfig {
  const at = `clusters[${i}]`;
  if (!isMap(entry))
    throw new ConsoleConfigError(source, at, 'must be a map with alias and bootstrap.servers');
  const known = new Set(['alias', 'bootstrap.servers', 'datacenter', 'client']);
  for (const k of Object.keys(entry))
    if (!known.has(k))
      throw new ConsoleConfigError(
        source,
        `${at}.${k}`,
        `is not a known key (known: ${[...known].join(', ')})`,
      );
  const alias = entry.alias;
  if (typeof alias !== 'string' || !ALIAS.test(alias))
    throw new ConsoleConfigError(
      source,
      `${at}.alias`,
      'must be a name of letters, digits, ".", "_" or "-" (at most 64), e.g. dc1-a',
    );
  if (entry['bootstrap.servers'] === undefined)
    throw new ConsoleConfigError(source, `${at}.bootstrap.servers`, 'is required');
  const bootstrapServers = parseBootstrapServers(
    entry['bootstrap.servers'],
    source,
    `${at}.bootstrap.servers`,
  );
  const dc = entry.datacenter;
  if (dc !== undefined && (typeof dc !== 'string' || dc === ''))
    throw new ConsoleConfigError(source, `${at}.datacenter`, 'must be a non-empty string');
  const client: Record<string, unknown> = { ...DEFAULT_CLIENT_SETTINGS };
  const securityProps: Record<string, string> = {};
  if (entry.client !== undefined) {
    if (!isMap(entry.client))
      throw new ConsoleConfigError(source, `${at}.client`, 'must be a map of client settings');
    for (const [k, v] of Object.entries(flatten(entry.client))) {
      if (SECURITY_PROPERTY_KEYS.includes(k)) {
        // A password is never quoted back, whatever is wrong with it.
        if (typeof v !== 'string' || v === '')
          throw new ConsoleConfigError(
            source,
            `${at}.client.${k}`,
            SECRET_PROPERTY_KEYS.has(k)
              ? 'must be a non-empty string'
              : `must be a non-empty string, got ${String(v)}`,
          );
        securityProps[k] = v;
        continue;
      }
      const spec = CLIENT_KEYS[k];
      if (spec === undefined)
        throw new ConsoleConfigError(
          source,
          `${at}.client.${k}`,
          `is not a supported client setting (supported: ${[...Object.keys(CLIENT_KEYS), ...SECURITY_PROPERTY_KEYS].join(', ')})`,
        );
      if (spec.field === 'clientId') {
        if (typeof v !== 'string' || v === '')
          throw new ConsoleConfigError(source, `${at}.client.${k}`, 'must be a non-empty string');
        client.clientId = v;
        continue;
      }
      const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < spec.min)
        throw new ConsoleConfigError(
          source,
          `${at}.client.${k}`,
          `must be an integer >= ${spec.min}, got ${String(v)}`,
        );
      client[spec.field] = n;
    }
  }
  const security = securityFromProperties(securityProps, (key, problem) => {
    throw new ConsoleConfigError(source, `${at}.client.${key}`, problem);
  });
  return {
    alias,
    bootstrapServers,
    datacenter: typeof dc === 'string' ? dc : null,
    client: client as unknown as ClusterClientSettings,
    ...(security.ssl !== undefined || security.sasl !== undefined ? { security } : {}),
  };
}

const TOKEN_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A token read from the environment: long, and only characters a Bearer header carries (RFC 6750). */
const MIN_TOKEN_LENGTH = 16;
const TOKEN_CHARS = /^[A-Za-z0-9\-._~+/]+=*$/;
const TOKEN_KEYS = ['name', 'role', 'token.sha256', 'token.env'];

/**
 * The security section: bearer tokens, each a name, a role and the token's SHA-256 (or the
 * name of an environment variable holding the token). A config file never holds a token, and
 * no message quotes one.
 */
function parseSecurity(doc: unknown, source: string, env: NodeJS.ProcessEnv): ConsoleSecurity {
  if (!isMap(doc)) throw new ConsoleConfigError(source, 'security', 'must be a map with tokens');
  for (const k of Object.keys(doc))
    if (k !== 'tokens')
      throw new ConsoleConfigError(source, `security.${k}`, 'is not a known key (known: tokens)');
  if (!Array.isArray(doc.tokens) || doc.tokens.length === 0)
    throw new ConsoleConfigError(
      source,
      'security.tokens',
      'must list at least one token (name, role and token.sha256 or token.env)',
    );
  const tokens: ConsoleToken[] = doc.tokens.map((entry: unknown, i: number) => {
    const at = `security.tokens[${i}]`;
    if (!isMap(entry))
      throw new ConsoleConfigError(source, at, 'must be a map with name, role and token.sha256 or token.env');
    const e = flatten(entry);
    for (const k of Object.keys(e)) {
      if (k === 'token')
        throw new ConsoleConfigError(
          source,
          `${at}.token`,
          'must not hold the token itself: give token.sha256 (the SHA-256 of the token, 64 hex digits) or token.env (an environment variable holding it)',
        );
      if (!TOKEN_KEYS.includes(k))
        throw new ConsoleConfigError(
          source,
          `${at}.${k}`,
          `is not a known key (known: ${TOKEN_KEYS.join(', ')})`,
        );
    }
    const name = e.name;
    if (typeof name !== 'string' || !TOKEN_NAME.test(name))
      throw new ConsoleConfigError(
        source,
        `${at}.name`,
        'must be a name of letters, digits, ".", "_", "@" or "-" (at most 64), e.g. ops-alice',
      );
    if (!isConsoleRole(e.role))
      throw new ConsoleConfigError(
        source,
        `${at}.role`,
        e.role === undefined
          ? `is required (${CONSOLE_ROLES.join(', ')})`
          : `must be viewer, operator or admin, got ${JSON.stringify(e.role)}`,
      );
    const hash = e['token.sha256'];
    const envName = e['token.env'];
    if (hash !== undefined && envName !== undefined)
      throw new ConsoleConfigError(source, `${at}.token.env`, 'cannot be given with token.sha256: give one');
    let sha256: Buffer;
    if (hash !== undefined) {
      if (typeof hash !== 'string' || !SHA256_HEX.test(hash))
        throw new ConsoleConfigError(
          source,
          `${at}.token.sha256`,
          'must be 64 hex digits, the SHA-256 of the token (e.g. printf %s "$TOKEN" | sha256sum)',
        );
      sha256 = Buffer.from(hash, 'hex');
    } else if (envName !== undefined) {
      if (typeof envName !== 'string' || !ENV_NAME.test(envName))
        throw new ConsoleConfigError(
          source,
          `${at}.token.env`,
          'must be the name of an environment variable',
        );
      const token = env[envName];
      if (token === undefined || token === '')
        throw new ConsoleConfigError(source, `${at}.token.env`, `names ${envName}, which is not set`);
      if (token.length < MIN_TOKEN_LENGTH || !TOKEN_CHARS.test(token))
        throw new ConsoleConfigError(
          source,
          `${at}.token.env`,
          `names ${envName}, whose value is not a usable token: it must be at least ${MIN_TOKEN_LENGTH} characters of letters, digits and -._~+/ (e.g. openssl rand -hex 32)`,
        );
      sha256 = crypto.createHash('sha256').update(token, 'utf8').digest();
    } else
      throw new ConsoleConfigError(
        source,
        `${at}.token.sha256`,
        'is required (the SHA-256 of the token, 64 hex digits), or token.env (an environment variable holding the token)',
      );
    return { name, role: e.role, sha256 };
  });
  tokens.forEach((t, i) => {
    const j = tokens.findIndex((u) => u.name === t.name);
    if (j < i)
      throw new ConsoleConfigError(
        source,
        `security.tokens[${i}].name`,
        `repeats "${t.name}"; names must be unique`,
      );
    const k = tokens.findIndex((u) => u.sha256.equals(t.sha256));
    if (k < i)
      throw new ConsoleConfigError(
        source,
        `security.tokens[${i}]`,
        `has the same token as security.tokens[${k}]; each token must be different`,
      );
  });
  return { tokens };
}

function flatten(map: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(map)) {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (isMap(v)) Object.assign(out, flatten(v, key));
    else out[key] = v;
  }
  return out;
}

export interface ConsoleConfigOptions {
  /** Where token.env settings are read: the process' environment by default. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * false for commands that only reach the clusters (topics, groups): the security section is
   * left unread (its tokens need not be in the environment) and `security` is null.
   */
  readonly readTokens?: boolean;
}

/** Validates a parsed console config document (YAML or JSON). */
export function parseConsoleConfig(
  doc: unknown,
  source: string,
  options: ConsoleConfigOptions = {},
): ConsoleConfig {
  if (!isMap(doc))
    throw new ConsoleConfigError(source, '(top level)', 'must be a map with http and clusters');
  // A mirror config (it has flows) is a console config too: the workers' own file is enough.
  if (doc.flows !== undefined) return consoleConfigFromMirror(doc, source);
  for (const k of Object.keys(doc))
    if (k !== 'http' && k !== 'clusters' && k !== 'security' && k !== 'mirror')
      throw new ConsoleConfigError(source, k, 'is not a known key (known: http, clusters, security, mirror)');
  let host = '127.0.0.1';
  let port = 8080;
  if (doc.http !== undefined) {
    if (!isMap(doc.http)) throw new ConsoleConfigError(source, 'http', 'must be a map with host and port');
    for (const k of Object.keys(doc.http))
      if (k !== 'host' && k !== 'port')
        throw new ConsoleConfigError(source, `http.${k}`, 'is not a known key (known: host, port)');
    if (doc.http.host !== undefined) {
      if (typeof doc.http.host !== 'string' || doc.http.host === '')
        throw new ConsoleConfigError(source, 'http.host', 'must be a host name or address');
      host = doc.http.host;
    }
    if (doc.http.port !== undefined) {
      const p = doc.http.port;
      if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535)
        throw new ConsoleConfigError(
          source,
          'http.port',
          `must be an integer from 0 to 65535, got ${JSON.stringify(p)}`,
        );
      port = p;
    }
  }
  if (!Array.isArray(doc.clusters) || doc.clusters.length === 0)
    throw new ConsoleConfigError(
      source,
      'clusters',
      'must list at least one cluster (alias and bootstrap.servers)',
    );
  const clusters = doc.clusters.map((c, i) => parseCluster(c, i, source));
  const seen = new Set<string>();
  clusters.forEach((c, i) => {
    if (seen.has(c.alias))
      throw new ConsoleConfigError(
        source,
        `clusters[${i}].alias`,
        `repeats "${c.alias}"; aliases must be unique`,
      );
    seen.add(c.alias);
  });
  const security =
    doc.security === undefined || options.readTokens === false
      ? null
      : parseSecurity(doc.security, source, options.env ?? process.env);
  const mirror = doc.mirror === undefined ? null : parseMirrorSection(doc.mirror, source);
  return { http: { host, port }, clusters, security, mirror };
}

/**
 * `mirror: FILE` or `mirror: { config: FILE, redis: URL or { sentinels, sentinel.master } }`:
 * the mirror config of the workers to attach to (their flows and clusters), and the Redis they
 * share (else the file's).
 */
function parseMirrorSection(value: unknown, source: string): ConsoleMirror {
  const section = typeof value === 'string' ? { config: value } : value;
  if (!isMap(section))
    throw new ConsoleConfigError(
      source,
      'mirror',
      'must be a mirror config file, or a map with config and redis',
    );
  for (const k of Object.keys(section))
    if (k !== 'config' && k !== 'redis')
      throw new ConsoleConfigError(source, `mirror.${k}`, 'is not a known key (known: config, redis)');
  if (typeof section.config !== 'string' || section.config === '')
    throw new ConsoleConfigError(
      source,
      'mirror.config',
      'must be the path of the workers’ mirror config file',
    );
  const redis =
    section.redis === undefined
      ? null
      : parseRedisEndpoint(
          section.redis,
          'mirror.redis',
          (key, text) => new ConsoleConfigError(source, key, text),
        );
  let config: MirrorConfig;
  try {
    config = readMirrorConfig(section.config);
  } catch (err) {
    if (err instanceof MirrorConfigError)
      throw new ConsoleConfigError(
        source,
        'mirror.config',
        `names a mirror config that is not valid: ${err.message}`,
      );
    throw err;
  }
  return {
    config,
    redis: requireRedis(config, redis, source, 'mirror.redis'),
  };
}

function requireRedis(
  config: MirrorConfig,
  override: RedisEndpoint | null,
  source: string,
  key: string,
): RedisEndpoint {
  const redis = override ?? config.redis;
  if (redis === null)
    throw new ConsoleConfigError(
      source,
      key,
      `is required: ${config.file} has no redis, and the console finds the workers through the Redis they share`,
    );
  return redis;
}

/**
 * A console for a mirror deployment read from the workers' own config file: its clusters
 * (aliases, bootstrap servers, data centers, security) and its flows, through its Redis.
 * HTTP comes from the file's `console` section (host, port), else 127.0.0.1:8080.
 */
function consoleConfigFromMirror(doc: Record<string, unknown>, source: string): ConsoleConfig {
  let config: MirrorConfig;
  try {
    config = parseMirrorConfig(doc, source);
  } catch (err) {
    if (err instanceof MirrorConfigError) throw new ConsoleConfigError(source, err.key, err.message);
    throw err;
  }
  const http = isMap(doc.console) ? doc.console : {};
  const host = typeof http.host === 'string' ? http.host : '127.0.0.1';
  const port = typeof http.port === 'number' ? http.port : 8080;
  const clusters = [...config.clusters.values()].map((c): ClusterConfig => ({
    alias: c.alias,
    bootstrapServers: parseBootstrapServers(
      c.bootstrapServers,
      source,
      `clusters.${c.alias}.bootstrap.servers`,
    ),
    datacenter: c.datacenter,
    client: DEFAULT_CLIENT_SETTINGS,
    ...(c.security.ssl !== undefined || c.security.sasl !== undefined ? { security: c.security } : {}),
  }));
  if (clusters.length === 0)
    throw new ConsoleConfigError(source, 'clusters', 'must name at least one cluster');
  return {
    http: { host, port },
    clusters,
    security: null,
    mirror: { config, redis: requireRedis(config, null, source, 'redis') },
  };
}

export function readConsoleConfig(file: string, options: ConsoleConfigOptions = {}): ConsoleConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConsoleConfigError(file, '(file)', `cannot be read: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new ConsoleConfigError(file, '(yaml)', (err as Error).message.split('\n')[0]);
  }
  return parseConsoleConfig(doc, file, options);
}

/** The client options for a cluster entry. */
export function clientOptionsOf(cluster: ClusterConfig): ClientOptions {
  return {
    bootstrapServers: cluster.bootstrapServers,
    clientId: cluster.client.clientId,
    requestTimeoutMs: cluster.client.requestTimeoutMs,
    connectTimeoutMs: cluster.client.connectTimeoutMs,
    retries: cluster.client.retries,
    retryBackoffMs: cluster.client.retryBackoffMs,
    retryBackoffMaxMs: Math.max(cluster.client.retryBackoffMs, 1000),
    metadataMaxAgeMs: cluster.client.metadataMaxAgeMs,
    ...(cluster.security?.ssl !== undefined ? { ssl: cluster.security.ssl } : {}),
    ...(cluster.security?.sasl !== undefined ? { sasl: cluster.security.sasl } : {}),
  };
}

/** A one-cluster config for the command line (--bootstrap-server). */
export function singleClusterConfig(alias: string, bootstrap: string): ClusterConfig {
  return {
    alias,
    bootstrapServers: parseBootstrapServers(bootstrap, 'command line', '--bootstrap-server'),
    datacenter: null,
    client: DEFAULT_CLIENT_SETTINGS,
  };
}
