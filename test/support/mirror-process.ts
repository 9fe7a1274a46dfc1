import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { MAIN, ROOT, runAsync, tempDir } from './broker-process';

export interface MirrorWorker {
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
}

/** Writes a mirror config file (YAML) and returns its path. */
export function writeMirrorConfig(doc: unknown): string {
  const file = path.join(tempDir('mirror-config'), 'mirror.yaml');
  fs.writeFileSync(file, stringify(doc));
  return file;
}

/** Starts `tributary mirror --config FILE` as a process and waits until its worker runs. */
export async function startMirrorWorker(
  configFile: string,
  extraArgs: readonly string[] = [],
  startTimeoutMs = 20_000,
): Promise<MirrorWorker> {
  const child = spawn(process.execPath, [MAIN, 'mirror', '--config', configFile, ...extraArgs], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    // A worker that is late is killed (the rejection waits for its exit): no stray worker runs on.
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      child.kill('SIGKILL');
    }, startTimeoutMs);
    const check = (): void => {
      if (/mirror worker \d+ running flows/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(
          late
            ? `mirror worker did not start in ${startTimeoutMs / 1000} s:\n${out}`
            : `mirror worker exited with ${code}:\n${out}`,
        ),
      );
    });
  });
  return {
    child,
    output: () => out,
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

export interface StoredRecord {
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly timestamp: number;
  readonly headers: string[];
}

/** Every record of a partition as kcat (librdkafka) reads it: an independent count of each hop. `kcatSettings`: -X options (security). */
export async function readPartition(
  bootstrap: string,
  topic: string,
  partition: number,
  kcatSettings: readonly string[] = [],
): Promise<StoredRecord[]> {
  const r = await runAsync(
    'kcat',
    [
      ...kcatSettings,
      ...['-b', bootstrap, '-t', topic, '-p', String(partition), '-C', '-o', 'beginning', '-e', '-J', '-q'],
    ],
    {
      timeoutMs: 60_000,
    },
  );
  if (r.status !== 0) throw new Error(`kcat ${topic}-${partition}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      const j = JSON.parse(l);
      return { offset: j.offset, key: j.key, value: j.payload, timestamp: j.ts, headers: j.headers ?? [] };
    });
}

export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** How long each unit's last worker had been silent when a worker took it over (its "took over" log lines), in seconds. */
export function takeoverSeconds(output: string): number[] {
  return [...output.matchAll(/took over \S+ at offset \d+ from worker \S+, silent for ([\d.]+) s/g)].map(
    (m) => Number(m[1]),
  );
}

/** kcat's view of a partition's end (librdkafka's ListOffsets): an independent measure of lag. */
export async function kcatEnd(bootstrap: string, topic: string, partition: number): Promise<number> {
  const r = await runAsync('kcat', ['-Q', '-b', bootstrap, '-t', `${topic}:${partition}:-1`], {
    timeoutMs: 30_000,
  });
  const m = /offset (-?\d+)/.exec(r.stdout);
  if (r.status !== 0 || m === null) throw new Error(`kcat -Q ${topic}-${partition}: ${r.stderr}${r.stdout}`);
  return Number(m[1]);
}
