import { Redis, type RedisOptions } from 'ioredis';

/**
 * Where the workers' Redis is: one server by URL, or a primary that Redis Sentinel watches
 * and fails over (ioredis's `sentinels` and `name`), with the passwords of its servers and of
 * the sentinels.
 */
export type RedisEndpoint =
  | { readonly url: string }
  | {
      readonly sentinels: readonly { readonly host: string; readonly port: number }[];
      readonly master: string;
      readonly password: string | null;
      readonly sentinelPassword: string | null;
    };

/** What a `redis` setting may hold, besides a URL. */
export const REDIS_KEYS = ['url', 'sentinels', 'sentinel.master', 'password', 'sentinel.password'];

const URL = /^rediss?:\/\/[^/\s]+/;

/**
 * A `redis` setting: a redis:// URL, or a map with `sentinels` (a list of HOST:PORT) and
 * `sentinel.master` (plus `password`, `sentinel.password`), or `url`. `problem(key, text)`
 * makes the error, naming the file and the key.
 */
export function parseRedisEndpoint(
  value: unknown,
  key: string,
  problem: (key: string, text: string) => Error,
): RedisEndpoint {
  if (typeof value === 'string') {
    if (!URL.test(value)) throw problem(key, `must be a redis:// or rediss:// URL, not "${value}"`);
    return { url: value };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw problem(key, 'must be a redis:// URL, or a map with sentinels and sentinel.master');
  const map = flatten(value as Record<string, unknown>);
  for (const k of Object.keys(map))
    if (!REDIS_KEYS.includes(k))
      throw problem(`${key}.${k}`, `is not a known key (known: ${REDIS_KEYS.join(', ')})`);
  const text = (k: string): string | null => {
    const v = map[k];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string' || v === '') throw problem(`${key}.${k}`, 'must be a non-empty string');
    return v;
  };
  const url = text('url');
  if (url !== null) {
    if (map.sentinels !== undefined)
      throw problem(`${key}.sentinels`, 'cannot go with url: name one Redis server, or the sentinels');
    return parseRedisEndpoint(url, `${key}.url`, problem);
  }
  const raw = map.sentinels;
  const entries =
    typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : Array.isArray(raw) ? raw : null;
  if (entries === null || entries.length === 0)
    throw problem(`${key}.sentinels`, 'is required (a list of HOST:PORT), or give url');
  const sentinels = entries.map((e) => {
    const m = typeof e === 'string' ? /^(\[[^\]]+\]|[^:\s]+):(\d+)$/.exec(e) : null;
    const port = m === null ? 0 : Number(m[2]);
    if (m === null || port < 1 || port > 65535)
      throw problem(`${key}.sentinels`, `must list HOST:PORT, not ${JSON.stringify(e)}`);
    return { host: m[1].replace(/^\[|\]$/g, ''), port };
  });
  const master = text('sentinel.master');
  if (master === null)
    throw problem(
      `${key}.sentinel.master`,
      'is required with sentinels: the name they monitor the primary under',
    );
  return { sentinels, master, password: text('password'), sentinelPassword: text('sentinel.password') };
}

/** `{ sentinel: { master: x } }` and `{ 'sentinel.master': x }` alike. */
function flatten(map: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(map)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      Object.assign(out, flatten(v as Record<string, unknown>, `${prefix}${k}.`));
    else out[`${prefix}${k}`] = v;
  }
  return out;
}

/**
 * An ioredis client for the endpoint. Through sentinels it asks them for the primary after
 * every disconnect; a command refused with READONLY went to a demoted primary: reconnect and
 * send it again. Not ioredis's failoverDetector: its +switch-master disconnect, landing while
 * a reconnect is resolving the primary, ends the client for good ("Connection is closed").
 */
export function connectRedis(endpoint: RedisEndpoint, options: RedisOptions = {}): Redis {
  const common: RedisOptions = {
    ...options,
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
  };
  if ('url' in endpoint) return new Redis(endpoint.url, common);
  return new Redis({
    ...common,
    sentinels: endpoint.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: endpoint.master,
    ...(endpoint.password === null ? {} : { password: endpoint.password }),
    ...(endpoint.sentinelPassword === null ? {} : { sentinelPassword: endpoint.sentinelPassword }),
    // Keep asking while the sentinels have no primary to name (a failover in progress).
    sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
  });
}

/** The endpoint for logs and the console: where it is, without passwords. */
export function describeRedis(endpoint: RedisEndpoint): string {
  if ('url' in endpoint) return endpoint.url.replace(/\/\/[^@/]*@/, '//');
  return `primary "${endpoint.master}" of sentinels ${endpoint.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
}

/**
 * ioredis gives up for good on some failures while it looks for a primary (status "end"); a
 * worker or console never does: it connects again after a second, until `closing()`.
 */
export function keepConnected(client: Redis, closing: () => boolean): void {
  client.on('end', () => {
    if (closing()) return;
    setTimeout(() => {
      if (!closing() && client.status === 'end') client.connect().catch(() => undefined);
    }, 1000).unref();
  });
}
