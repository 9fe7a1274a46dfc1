import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { tempDir } from './broker-process';

/** A port free right now on 127.0.0.1 (redis-server cannot be told to pick one itself). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** The running redis-server's process id (for SIGSTOP and SIGCONT), undefined while it is down. */
  pid(): number | undefined;
  output(): string;
  /** Clean stop (SIGTERM: the append-only file is flushed). */
  stop(): Promise<void>;
  kill9(): Promise<void>;
  /** SIGSTOP: frozen, answering nothing (a replica that acknowledges nothing), until resume(). */
  pause(): void;
  resume(): void;
  /** Starts it again on the same port and directory, with what it persisted (nothing with `wipe`). */
  restart(options?: { wipe?: boolean }): Promise<void>;
}

/**
 * A real redis-server on 127.0.0.1 and a free port, persistent as a cluster's Redis must be
 * (append-only file fsynced on every write, in its own temporary directory); `args` adds
 * settings (e.g. --replicaof).
 */
export async function startRedis(options: { args?: readonly string[] } = {}): Promise<RedisProcess> {
  const dir = tempDir('redis');
  const port = await freePort();
  const server = await launchRedis(
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      ...(options.args ?? []),
    ],
    'Ready to accept connections',
  );
  return { port, url: `redis://127.0.0.1:${port}`, dir, ...server };
}

/** A redis-server (or sentinel) process that can be stopped, killed and launched again. */
async function launchRedis(
  args: readonly string[],
  ready: string,
): Promise<Pick<RedisProcess, 'pid' | 'output' | 'stop' | 'kill9' | 'pause' | 'resume' | 'restart'>> {
  let child: ChildProcess;
  let out = '';
  let exited: Promise<void>;
  const dir = args[args.indexOf('--dir') + 1];
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const started = out.length;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start in 10s:\n${out}`)), 10_000);
      const check = (): void => {
        if (out.slice(started).includes(ready)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', check);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited before it was ready:\n${out}`));
      });
    });
  };
  await launch();
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    pid: () => (running() ? child.pid : undefined),
    output: () => out,
    async stop() {
      if (!running()) return;
      child.kill('SIGTERM');
      await exited;
    },
    async kill9() {
      if (!running()) return;
      child.kill('SIGKILL');
      await exited;
    },
    pause() {
      child.kill('SIGSTOP');
    },
    resume() {
      child.kill('SIGCONT');
    },
    async restart(options = {}) {
      if (running()) {
        child.kill('SIGTERM');
        await exited;
      }
      if (options.wipe)
        for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
      await launch();
    },
  };
}

/** A Redis primary with replicas, watched by three Sentinels that fail it over. */
export interface RedisSentinelGroup {
  /** The name the sentinels monitor the primary under (redis.sentinel.master). */
  readonly master: string;
  /** HOST:PORT of each sentinel, comma-separated (redis.sentinels). */
  readonly sentinels: string;
  /** The data servers, the first one the primary at start. */
  readonly servers: readonly RedisProcess[];
  readonly sentinelProcesses: readonly RedisProcess[];
  /** The server the sentinels name as the primary now. */
  primary(): Promise<RedisProcess>;
  /** Waits until the sentinels name a primary other than `old`, with a replica attached. */
  waitForFailover(old: RedisProcess, timeoutMs?: number): Promise<RedisProcess>;
  /** Waits until the primary has `count` replicas attached (a restarted server rejoined). */
  waitForReplicas(count: number, timeoutMs?: number): Promise<RedisProcess>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * A primary and `replicas` replicas (each persistent as startRedis makes it), and three
 * Sentinels with quorum 2 that find a dead primary within a second and promote a replica.
 * The servers refuse writes with fewer than `minReplicasToWrite` replicas connected (Redis's
 * min-replicas-to-write, cutting off an isolated primary). Resolves once every sentinel sees
 * the primary, its replicas and the other sentinels.
 */
export async function startRedisSentinels(
  options: { replicas?: number; minReplicasToWrite?: number } = {},
): Promise<RedisSentinelGroup> {
  const master = 'tributary';
  const minReplicas = [
    '--min-replicas-to-write',
    String(options.minReplicasToWrite ?? 1),
    '--min-replicas-max-lag',
    '5',
  ];
  const primary = await startRedis({ args: minReplicas });
  const servers = [primary];
  for (let i = 0; i < (options.replicas ?? 2); i++)
    servers.push(
      await startRedis({ args: [...minReplicas, '--replicaof', '127.0.0.1', String(primary.port)] }),
    );
  const sentinelProcesses: RedisProcess[] = [];
  for (let i = 0; i < 3; i++) {
    const dir = tempDir('sentinel');
    const port = await freePort();
    const conf = path.join(dir, 'sentinel.conf');
    fs.writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${master} 127.0.0.1 ${primary.port} 2`,
        `sentinel down-after-milliseconds ${master} 1000`,
        `sentinel failover-timeout ${master} 5000`,
        `sentinel parallel-syncs ${master} 2`,
        '',
      ].join('\n'),
    );
    const process = await launchRedis([conf, '--sentinel', '--dir', dir], '+monitor master');
    sentinelProcesses.push({ port, url: `redis://127.0.0.1:${port}`, dir, ...process });
  }
  const ask = async (sentinel: RedisProcess, ...command: string[]): Promise<unknown> => {
    const r = new Redis(sentinel.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return await r.call('SENTINEL', ...command);
    } finally {
      r.disconnect();
    }
  };
  const masterInfo = async (sentinel: RedisProcess): Promise<Map<string, string>> => {
    const flat = (await ask(sentinel, 'MASTER', master)) as string[];
    const info = new Map<string, string>();
    for (let i = 0; i + 1 < flat.length; i += 2) info.set(flat[i], flat[i + 1]);
    return info;
  };
  const waitFor = async <T>(
    what: string,
    check: () => Promise<T | undefined>,
    timeoutMs: number,
  ): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let last: Error | null = null;
    while (Date.now() < deadline) {
      try {
        const v = await check();
        if (v !== undefined) return v;
      } catch (err) {
        last = err as Error;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for ${what}${last === null ? '' : `: ${last.message}`}`,
    );
  };
  /** The server's own view: -1 unless it is a primary, else its attached replicas. */
  const replicasOf = async (server: RedisProcess): Promise<number> => {
    const r = new Redis(server.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    r.on('error', () => undefined);
    try {
      await r.connect();
      const role = (await r.call('ROLE')) as [string, number, unknown[]];
      return role[0] === 'master' ? role[2].length : -1;
    } finally {
      r.disconnect();
    }
  };
  const settled = async (primaryPort: number, replicas: number): Promise<RedisProcess | undefined> => {
    for (const s of sentinelProcesses) {
      const info = await masterInfo(s);
      if (
        Number(info.get('port')) !== primaryPort ||
        Number(info.get('num-slaves')) < replicas ||
        Number(info.get('num-other-sentinels')) < 2 ||
        (info.get('flags') ?? '') !== 'master'
      )
        return undefined;
    }
    const found = servers.find((x) => x.port === primaryPort);
    // The primary counts its replicas itself: under min-replicas-to-write it takes no write before.
    return found !== undefined && (await replicasOf(found)) >= replicas ? found : undefined;
  };
  await waitFor(
    'the sentinels to see the primary, its replicas and each other',
    () => settled(primary.port, servers.length - 1),
    30_000,
  );
  const group: RedisSentinelGroup = {
    master,
    sentinels: sentinelProcesses.map((s) => `127.0.0.1:${s.port}`).join(','),
    servers,
    sentinelProcesses,
    async primary() {
      const [, port] = (await ask(sentinelProcesses[0], 'GET-MASTER-ADDR-BY-NAME', master)) as [
        string,
        string,
      ];
      const found = servers.find((x) => x.port === Number(port));
      if (found === undefined) throw new Error(`the sentinels name an unknown primary on port ${port}`);
      return found;
    },
    waitForFailover(old, timeoutMs = 30_000) {
      return waitFor(
        `a primary other than 127.0.0.1:${old.port}`,
        async () => {
          const now = await group.primary();
          return now !== old && (await replicasOf(now)) >= 1 ? now : undefined;
        },
        timeoutMs,
      );
    },
    waitForReplicas(count, timeoutMs = 30_000) {
      return waitFor(
        `a primary with ${count} replicas`,
        async () => {
          const now = await group.primary();
          return (await replicasOf(now)) >= count ? now : undefined;
        },
        timeoutMs,
      );
    },
    output: () =>
      [...servers, ...sentinelProcesses].map((x) => `--- redis ${x.port}\n${x.output()}`).join('\n'),
    async stop() {
      await Promise.all([...sentinelProcesses, ...servers].map((x) => x.stop()));
    },
  };
  return group;
}
