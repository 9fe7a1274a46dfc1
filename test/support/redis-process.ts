import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
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
  output(): string;
  /** Clean stop (SIGTERM: the append-only file is flushed). */
  stop(): Promise<void>;
  kill9(): Promise<void>;
  /** Starts it again on the same port and directory, with what it persisted (nothing with `wipe`). */
  restart(options?: { wipe?: boolean }): Promise<void>;
}

/**
 * A real redis-server on 127.0.0.1 and a free port, persistent as a cluster's Redis must be
 * (append-only file fsynced on every write, in its own temporary directory).
 */
export async function startRedis(): Promise<RedisProcess> {
  const dir = tempDir('redis');
  const port = await freePort();
  let child: ChildProcess;
  let out = '';
  let exited: Promise<void>;
  const launch = async (): Promise<void> => {
    child = spawn(
      'redis-server',
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
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const started = out.length;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start in 10s:\n${out}`)), 10_000);
      const check = (): void => {
        if (out.slice(started).includes('Ready to accept connections')) {
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
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
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
