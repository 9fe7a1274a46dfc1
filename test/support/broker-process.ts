import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The repository root (tests run from the compiled tree under dist/). */
export const ROOT = process.env.TRIBUTARY_ROOT ?? path.resolve(__dirname, '..', '..', '..');
export const MAIN = path.join(ROOT, 'dist', 'apps', 'tributary', 'src', 'main.js');

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tributary-${prefix}-`));
}

export interface BrokerProcess {
  readonly port: number;
  readonly bootstrap: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything the broker printed so far. */
  output(): string;
  /** The bound port of each listener, by name, from the broker's "listening on" lines. */
  listenerPorts(): Record<string, number>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill9(): Promise<void>;
}

export interface StartOptions {
  readonly dataDir?: string;
  readonly nodeId?: number;
  readonly port?: number;
  readonly extraArgs?: readonly string[];
  /** How long it may take to listen (20 s by default); a broker that does not is killed. */
  readonly startTimeoutMs?: number;
}

/** Starts `tributary broker` as a child process on 127.0.0.1 and waits until it listens. */
export async function startBroker(opts: StartOptions = {}): Promise<BrokerProcess> {
  const dataDir = opts.dataDir ?? tempDir('broker');
  const args = [
    MAIN,
    'broker',
    '--node-id',
    String(opts.nodeId ?? 1),
    '--listen',
    `127.0.0.1:${opts.port ?? 0}`,
    '--data-dir',
    dataDir,
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
  const port = await new Promise<number>((resolve, reject) => {
    // A broker that is late is killed (the rejection waits for its exit), so that no stray
    // process keeps its data directory.
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      child.kill('SIGKILL');
    }, startTimeoutMs);
    const check = (): void => {
      const m = /listening on [^\s:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(
          late
            ? `broker did not start in ${startTimeoutMs / 1000} s:\n${out}`
            : `broker exited with ${code} before listening:\n${out}`,
        ),
      );
    });
  });
  return {
    port,
    bootstrap: `127.0.0.1:${port}`,
    dataDir,
    child,
    output: () => out,
    listenerPorts() {
      const ports: Record<string, number> = {};
      for (const m of out.matchAll(/listening on [^\s]+:(\d+) \(listener (\w+),/g))
        ports[m[2]] = Number(m[1]);
      return ports;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion (bounded by timeoutMs), capturing its output. */
export function run(
  cmd: string,
  args: readonly string[],
  input?: string | Buffer,
  timeoutMs = 60000,
): RunResult {
  const r = spawnSync(cmd, args, { input, timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, cwd: ROOT });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** Runs a command asynchronously (so the test's own event loop keeps going). */
export function runAsync(
  cmd: string,
  args: readonly string[],
  opts: {
    input?: string | Buffer;
    timeoutMs?: number;
    env?: NodeJS.ProcessEnv;
    /** Its standard output goes to /dev/null (a benchmark's consumer): stdout reads ''. */
    discardStdout?: boolean;
  } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: opts.env ?? process.env,
      stdio: [
        opts.input === undefined ? 'ignore' : 'pipe',
        opts.discardStdout === true ? 'ignore' : 'pipe',
        'pipe',
      ],
    });
    // A command that exits before reading all its input says so by its status; the pipe's EPIPE says nothing more.
    child.stdin?.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') reject(err);
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => stdout.push(d));
    child.stderr?.on('data', (d: Buffer) => stderr.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Debian's python (the pyenv one first on PATH lacks the Kafka client packages). */
export const PYTHON = '/usr/bin/python3';
export const PYTHON_DIR = path.join(ROOT, 'test', 'interop', 'python');
