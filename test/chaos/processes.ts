import fs from 'node:fs';
import path from 'node:path';

export type ProcessState = 'running' | 'paused' | 'down' | 'starting';

/** What a managed process is made of while it runs: its pid, output and a way to kill it. */
export interface Incarnation {
  readonly pid: number | undefined;
  output(): string;
  kill9(): Promise<void>;
  stop(): Promise<unknown>;
}

/**
 * One process of the topology that the nemesis kills, restarts, pauses and resumes: a
 * broker, a Redis, a mirror worker. Each incarnation's output is appended to
 * `<logDir>/<name>.log` when it ends, so a failure can be read after the run.
 */
export class ManagedProcess {
  state: ProcessState = 'down';
  private current: Incarnation | null = null;
  private incarnations = 0;

  constructor(
    readonly name: string,
    private readonly launch: () => Promise<Incarnation>,
    private readonly logDir: string,
  ) {}

  get pid(): number | undefined {
    return this.state === 'running' || this.state === 'paused' ? this.current?.pid : undefined;
  }

  output(): string {
    return this.current?.output() ?? '';
  }

  async start(): Promise<void> {
    this.state = 'starting';
    try {
      this.current = await this.launch();
      this.incarnations++;
      this.state = 'running';
    } catch (err) {
      this.state = 'down';
      throw err;
    }
  }

  /** SIGKILL (a paused process dies as well). */
  async kill9(): Promise<void> {
    const c = this.current;
    if (c === null) return;
    this.state = 'down';
    await c.kill9();
    this.keepLog(c, 'killed -9');
    this.current = null;
  }

  pause(): void {
    if (this.state !== 'running' || this.current?.pid === undefined) return;
    process.kill(this.current.pid, 'SIGSTOP');
    this.state = 'paused';
  }

  resume(): void {
    if (this.state !== 'paused' || this.current?.pid === undefined) return;
    process.kill(this.current.pid, 'SIGCONT');
    this.state = 'running';
  }

  /** A clean stop (SIGTERM), resuming a paused process first so that it can hear it. */
  async stop(): Promise<void> {
    this.resume();
    const c = this.current;
    if (c === null) return;
    this.state = 'down';
    await c.stop();
    this.keepLog(c, 'stopped');
    this.current = null;
  }

  private keepLog(c: Incarnation, how: string): void {
    fs.appendFileSync(
      path.join(this.logDir, `${this.name}.log`),
      `${c.output()}\n===== ${this.name} incarnation ${this.incarnations} ${how} at ${new Date().toISOString()}\n`,
    );
  }
}
