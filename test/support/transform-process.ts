import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { PYTHON, PYTHON_DIR, ROOT, runAsync } from './broker-process';

export interface TransformEvent {
  readonly ev: 'committed' | 'error' | 'done';
  /** Records committed by this process so far. */
  readonly n?: number;
  readonly name?: string;
}

/**
 * One consume_transform_produce.py process (confluent-kafka, exactly-once): reads `input` in
 * `group`, writes "out-<value>" to `output`, commits offsets in each transaction.
 */
export class TransformProcess {
  readonly events: TransformEvent[] = [];
  private readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private stderr = '';

  constructor(
    bootstrap: string,
    input: string,
    output: string,
    group: string,
    transactionalId: string,
    batch = 50,
  ) {
    const script = path.join(PYTHON_DIR, 'consume_transform_produce.py');
    this.child = spawn(PYTHON, [script, bootstrap, input, output, group, transactionalId, String(batch)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    readline
      .createInterface({ input: this.child.stdout! })
      .on('line', (line) => this.events.push(JSON.parse(line) as TransformEvent));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  /** Records this process committed. */
  get committed(): number {
    return this.events.filter((e) => e.ev === 'committed').at(-1)?.n ?? 0;
  }

  get done(): boolean {
    return this.events.some((e) => e.ev === 'done');
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  diagnostics(): string {
    return `${this.events.length} events, last ${JSON.stringify(this.events.slice(-5))}; stderr:\n${this.stderr.slice(-3000)}`;
  }
}

/**
 * Runs consume_transform_produce.py until it has consumed its input to the end, starting a
 * new process whenever one exits without finishing (fenced, or killed by the test): each new
 * instance fences the previous one and carries on from the group's committed offsets.
 */
export class TransformRunner {
  readonly processes: TransformProcess[] = [];
  private finished: Promise<void> | null = null;

  constructor(private readonly start: () => TransformProcess) {}

  get current(): TransformProcess | undefined {
    return this.processes.at(-1);
  }

  /** Records committed over every process (each counts from its own start). */
  get committed(): number {
    return this.processes.reduce((n, p) => n + p.committed, 0);
  }

  run(): Promise<void> {
    this.finished ??= (async () => {
      for (;;) {
        const p = this.start();
        this.processes.push(p);
        await p.exited;
        if (p.done) return;
      }
    })();
    return this.finished;
  }

  async stop(): Promise<void> {
    for (const p of this.processes) if (p.running) await p.kill9();
  }

  diagnostics(): string {
    return this.processes.map((p, i) => `process ${i}: ${p.diagnostics()}`).join('\n');
  }
}

/** `count` plain records "v0".."v<count-1>" keyed k0.., produced with acks=all by kcat. */
export async function produceInput(bootstrap: string, topic: string, count: number): Promise<void> {
  const lines = Array.from({ length: count }, (_, i) => `k${i}:v${i}`).join('\n') + '\n';
  const r = await runAsync('kcat', ['-b', bootstrap, '-t', topic, '-P', '-K:', '-X', 'acks=all'], {
    input: lines,
    timeoutMs: 60_000,
  });
  if (r.status !== 0) throw new Error(`kcat failed: ${r.stderr}`);
}

/** A topic read to its end by read_isolated.py: its values, in partition order. */
export async function readIsolated(
  bootstrap: string,
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted',
): Promise<string[]> {
  const r = await runAsync(PYTHON, [path.join(PYTHON_DIR, 'read_isolated.py'), bootstrap, topic, isolation], {
    timeoutMs: 60_000,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`read_isolated.py: ${r.stdout}\n${r.stderr}`);
  const report = JSON.parse(line) as { values: string[]; errors: string[] };
  if (report.errors.length > 0) throw new Error(`read_isolated.py: ${report.errors.join('; ')}`);
  return report.values;
}

/** Every input value once in the output ("out-<value>"): the duplicates and the missing ones, if any. */
export function exactlyOnce(
  count: number,
  output: readonly string[],
): { missing: string[]; duplicated: string[] } {
  const seen = new Map<string, number>();
  for (const v of output) seen.set(v, (seen.get(v) ?? 0) + 1);
  const missing: string[] = [];
  for (let i = 0; i < count; i++) if (!seen.has(`out-v${i}`)) missing.push(`v${i}`);
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([v]) => v);
  return { missing, duplicated };
}
