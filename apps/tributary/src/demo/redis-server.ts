import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** A private redis-server for the demo: a free port of 127.0.0.1, its own directory, no persistence. */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  url = '';

  async start(dir: string): Promise<string> {
    if (spawnSync('redis-server', ['--version']).error) {
      throw new Error(
        'the demo needs redis-server (Debian: apt-get install redis-server), or set `redis:` in its config',
      );
    }
    const port = await freePort();
    fs.mkdirSync(dir, { recursive: true });
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        path.resolve(dir),
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      // Its own process group: Ctrl-C reaches the demo, which stops the replicator first and Redis last.
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    this.child = child;
    process.once('exit', () => child.kill('SIGKILL'));
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10000);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (/Ready to accept connections/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${out}`)));
    });
    this.url = `redis://127.0.0.1:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
