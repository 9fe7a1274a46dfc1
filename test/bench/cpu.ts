import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * CPU time of other processes, from /proc/<pid>/stat (utime + stime): the broker's cost of a
 * run, which the shared machine's noise does not inflate the way it does wall time.
 */
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** User + system CPU seconds `pid` has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), counted from state (field 3).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** One timed run: wall seconds, and CPU seconds of the process(es) measured meanwhile. */
export interface Run {
  readonly seconds: number;
  readonly cpu: number;
}

/** What `run` returns, with the CPU seconds the processes `pids` spent meanwhile. */
export async function withCpu<T extends { seconds: number }>(
  pids: readonly number[],
  run: () => Promise<T>,
): Promise<T & { cpu: number }> {
  const before = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const result = await run();
  const cpu = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - before;
  return { ...result, cpu };
}

export const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Milliseconds of CPU per MB, the median over runs of `mb` each. */
export const cpuMsPerMB = (runs: readonly Run[], mb: number): number =>
  +median(runs.map((r) => (r.cpu * 1000) / mb)).toFixed(2);

/** The median over runs of a / b, each pair measured in the same repeat. */
export const pairedRatio = (a: readonly number[], b: readonly number[]): number =>
  +median(a.map((x, i) => x / b[i])).toFixed(2);
