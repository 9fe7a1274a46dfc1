import { Redis, type RedisOptions } from 'ioredis';
import type { RedisEndpoint } from '@tributary/broker';

/**
 * An ioredis client for the endpoint: one server by URL, or the primary the sentinels name
 * (ioredis asks them again after every disconnect). A command refused with READONLY went to a
 * primary demoted under us: reconnect (through the sentinels) and send it again. Not ioredis's
 * failoverDetector: its +switch-master disconnect, landing while a reconnect is resolving the
 * primary, ends the client for good ("Connection is closed").
 */
export function connectRedis(endpoint: RedisEndpoint, options: RedisOptions): Redis {
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
    // Keep asking the sentinels while they have no primary to name (a failover in progress).
    sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
  });
}

/** The endpoint for logs: where it is, without passwords. */
export function describeRedis(endpoint: RedisEndpoint): string {
  if ('url' in endpoint) return endpoint.url.replace(/\/\/[^@/]*@/, '//');
  return `primary "${endpoint.master}" of sentinels ${endpoint.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
}
