import fs from 'node:fs';
import { parse } from 'yaml';
import type { ClientOptions } from '@tributary/client';

/** One cluster the console shows: an alias, where to reach it, and client settings. */
export interface ClusterConfig {
  readonly alias: string;
  readonly bootstrapServers: readonly string[];
  /** Groups clusters on the topology map (a data center, a zone). */
  readonly datacenter: string | null;
  readonly client: ClusterClientSettings;
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
  if (entry.client !== undefined) {
    if (!isMap(entry.client))
      throw new ConsoleConfigError(source, `${at}.client`, 'must be a map of client settings');
    for (const [k, v] of Object.entries(flatten(entry.client))) {
      const spec = CLIENT_KEYS[k];
      if (spec === undefined)
        throw new ConsoleConfigError(
          source,
          `${at}.client.${k}`,
          `is not a supported client setting (supported: ${Object.keys(CLIENT_KEYS).join(', ')})`,
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
  return {
    alias,
    bootstrapServers,
    datacenter: typeof dc === 'string' ? dc : null,
    client: client as unknown as ClusterClientSettings,
  };
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

/** Validates a parsed console config document (YAML or JSON). */
export function parseConsoleConfig(doc: unknown, source: string): ConsoleConfig {
  if (!isMap(doc))
    throw new ConsoleConfigError(source, '(top level)', 'must be a map with http and clusters');
  for (const k of Object.keys(doc))
    if (k !== 'http' && k !== 'clusters')
      throw new ConsoleConfigError(source, k, 'is not a known key (known: http, clusters)');
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
          `must be an integer from 0 to 65535, got ${String(p)}`,
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
  return { http: { host, port }, clusters };
}

export function readConsoleConfig(file: string): ConsoleConfig {
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
  return parseConsoleConfig(doc, file);
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
