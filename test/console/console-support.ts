import { spawn } from 'node:child_process';
import net from 'node:net';
import {
  DEFAULT_CLIENT_SETTINGS,
  type ClusterConfig,
  type FlowDetail,
  type FlowStatusSource,
  type FlowSummary,
  type FlowThrottle,
  type MirrorWorkerView,
} from '@tributary/console';
import { chromium, type BrowserContext } from 'playwright-core';
import { MAIN, ROOT, tempDir } from '../support/broker-process';

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
  readonly headers: Headers;
  // The tests read whatever the API answered; each assertion says which fields it expects.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/** A JSON client for a console under test; with a token, every call carries it as a bearer token. */
export function apiClient(base: string, token?: string) {
  return async (method: string, path: string, body?: unknown): Promise<ApiResponse> => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const contentType = res.headers.get('content-type');
    return {
      status: res.status,
      contentType,
      headers: res.headers,
      body: text !== '' && contentType?.includes('json') ? JSON.parse(text) : text,
    };
  };
}

export interface ConsoleProcess {
  /** http://host:port, from the line the console prints when it listens. */
  readonly url: string;
  /** Everything the process printed so far, stdout and stderr. */
  output(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Runs `tributary console --config FILE` as a child process (with extra environment) until it prints its address. */
export async function startConsoleProcess(
  configFile: string,
  env: Record<string, string> = {},
): Promise<ConsoleProcess> {
  const child = spawn(process.execPath, [MAIN, 'console', '--config', configFile], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    return exited;
  };
  try {
    const url = await eventually(
      'the console prints its address',
      async () => {
        if (child.exitCode !== null) throw new Error(`the console exited with ${child.exitCode}:\n${out}`);
        return /^console on (http:\/\/\S+) for /m.exec(out)?.[1];
      },
      (u) => u !== undefined,
      30_000,
    );
    return { url: url as string, output: () => out, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Debian's headless Chromium, driven by playwright-core, for the dashboard tests. */
export function launchChromium(): Promise<BrowserContext> {
  return chromium.launchPersistentContext(tempDir('chromium'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
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

/**
 * The contract the replicator will implement, held in memory: the console's flow endpoints,
 * topology and mirror metrics are checked against it until libs/mirror plugs in its own.
 */
export class InMemoryFlows implements FlowStatusSource {
  readonly configured = true;
  readonly provider = 'test';
  readonly flows = new Map<string, FlowDetail>();

  constructor(details: FlowDetail[]) {
    for (const d of details) this.flows.set(d.id, d);
  }

  private summary(d: FlowDetail): FlowSummary {
    return Object.fromEntries(
      Object.entries(d).filter(([k]) => k !== 'partitions' && k !== 'errors'),
    ) as unknown as FlowSummary;
  }

  async listFlows(): Promise<FlowSummary[]> {
    return [...this.flows.values()].map((d) => this.summary(d));
  }

  async describeFlow(id: string): Promise<FlowDetail | null> {
    return this.flows.get(id) ?? null;
  }

  private change(id: string, patch: Partial<FlowDetail>): FlowSummary | null {
    const d = this.flows.get(id);
    if (d === undefined) return null;
    const next = { ...d, ...patch };
    this.flows.set(id, next);
    return this.summary(next);
  }

  async pause(id: string): Promise<FlowSummary | null> {
    return this.change(id, { state: 'paused' });
  }

  async resume(id: string): Promise<FlowSummary | null> {
    return this.change(id, { state: 'running' });
  }

  async throttle(id: string, throttle: FlowThrottle): Promise<FlowSummary | null> {
    return this.change(id, { throttle });
  }

  // The promotion workflow is proven against a real replicator (test/mirror/promote.test.ts).
  readonly workers = async (): Promise<MirrorWorkerView[]> => [];
  readonly promote = async (): Promise<null> => null;
  readonly failover = async (): Promise<null> => null;
  readonly reverse = async (): Promise<null> => null;
  readonly failback = async (): Promise<null> => null;
  readonly checkpoints = async (): Promise<null> => null;
  readonly groupOffsets = async (): Promise<null> => null;
}

/** A running flow with one partition of orders behind by `lag` records. */
export function flow(source: string, target: string, lag: number): FlowDetail {
  return {
    id: `${source}->${target}`,
    source,
    target,
    state: 'running',
    topics: ['orders', '!internal.*'],
    replicationPolicy: 'prefix',
    lagRecords: lag,
    lagSeconds: lag / 10,
    replicationLatencyMs: 40,
    throughput: { recordsPerSecond: 120, bytesPerSecond: 12000 },
    throttle: { recordsPerSecond: null, bytesPerSecond: null },
    lastCheckpoint: { at: 1700000000000, groups: 2 },
    errorCount: 0,
    partitionsInError: 0,
    topicStates: [],
    partitions: [
      {
        sourceTopic: 'orders',
        targetTopic: `${source}.orders`,
        partition: 0,
        state: 'copying',
        direction: 'forward',
        sourceLogEndOffset: 100,
        position: 100 - lag,
        lagRecords: lag,
        lagSeconds: lag / 10,
        worker: 'test-host-1-w',
        updatedAt: 1700000000000,
        error: null,
      },
    ],
    errors: [],
  };
}
