import type { SecurityOptions } from './security';

/**
 * Settings shared by the producer, consumer and admin; names follow the Java client's in
 * camelCase. `ssl` and `sasl` (SecurityOptions) reach a secured cluster.
 */
export interface ClientOptions extends SecurityOptions {
  /** "host:port" entries, as a list or a comma-separated string (bootstrap.servers). */
  readonly bootstrapServers: string | readonly string[];
  readonly clientId?: string;
  readonly connectTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  /** How many times a retriable failure is retried (retries). */
  readonly retries?: number;
  /** First backoff between retries (retry.backoff.ms); doubles up to retryBackoffMaxMs. */
  readonly retryBackoffMs?: number;
  readonly retryBackoffMaxMs?: number;
  /** Metadata older than this is refreshed (metadata.max.age.ms). */
  readonly metadataMaxAgeMs?: number;
  readonly logger?: ClientLogger;
}

export interface ClientLogger {
  debug?(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: ClientLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export function parseBootstrap(servers: string | readonly string[]): { host: string; port: number }[] {
  const list = typeof servers === 'string' ? servers.split(',') : servers;
  const out = list
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(s);
      if (m === null) throw new Error(`bootstrap server "${s}" is not host:port`);
      return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
    });
  if (out.length === 0) throw new Error('no bootstrap servers given');
  return out;
}
