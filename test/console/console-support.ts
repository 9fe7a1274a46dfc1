import net from 'node:net';
import { DEFAULT_CLIENT_SETTINGS, type ClusterConfig } from '@tributary/console';

/** A cluster entry for a test console. */
export function cluster(alias: string, bootstrap: string, datacenter: string | null = null): ClusterConfig {
  return {
    alias,
    bootstrapServers: [bootstrap],
    datacenter,
    client: { ...DEFAULT_CLIENT_SETTINGS, retries: 1 },
  };
}

export interface ApiResponse {
  readonly status: number;
  readonly contentType: string | null;
  // The tests read whatever the API answered; each assertion says which fields it expects.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/** A JSON client for a console under test. */
export function apiClient(base: string) {
  return async (method: string, path: string, body?: unknown): Promise<ApiResponse> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const contentType = res.headers.get('content-type');
    return {
      status: res.status,
      contentType,
      body: text !== '' && contentType?.includes('json') ? JSON.parse(text) : text,
    };
  };
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls until check passes or the deadline, so tests wait for state changes without fixed sleeps. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T>,
  check: (v: T) => boolean,
  timeoutMs = 15000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (check(v)) return v;
    if (Date.now() > deadline)
      throw new Error(`${what}: not true within ${timeoutMs} ms (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
