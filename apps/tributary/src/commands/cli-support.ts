import {
  ClusterConnections,
  readConsoleConfig,
  singleClusterConfig,
  type ClusterConfig,
  type ClusterOperations,
} from '@tributary/console';
import { single, UsageError, type ParsedArgs } from '../args';

/** Flags every cluster command takes. */
export const CLUSTER_FLAGS = ['bootstrap-server', 'console-config', 'cluster', 'json', 'help'];

export const CLUSTER_OPTIONS = `Cluster (one of):
  --bootstrap-server HOST:PORT[,HOST:PORT]   the cluster's brokers
  --console-config FILE --cluster ALIAS      a cluster of a console config (config/console.yaml)

Output:
  --json               JSON for scripts instead of tables`;

export function checkFlags(args: ParsedArgs, allowed: readonly string[]): void {
  const known = new Set([...CLUSTER_FLAGS, ...allowed]);
  for (const name of args.flags.keys())
    if (!known.has(name)) throw new UsageError(`unknown option --${name}`);
}

export function wantsJson(args: ParsedArgs): boolean {
  return args.flags.has('json');
}

/** The cluster a command works on, from --bootstrap-server or --console-config and --cluster. */
export function clusterOf(args: ParsedArgs): ClusterConfig {
  const bootstrap = single(args, 'bootstrap-server');
  const file = single(args, 'console-config');
  const alias = single(args, 'cluster');
  if (bootstrap !== undefined) {
    if (file !== undefined) throw new UsageError('give --bootstrap-server or --console-config, not both');
    return singleClusterConfig(alias ?? bootstrap, bootstrap);
  }
  if (file === undefined)
    throw new UsageError(
      '--bootstrap-server HOST:PORT is required (or --console-config FILE --cluster ALIAS)',
    );
  // The console's bearer tokens are for its HTTP API, not for reaching the clusters.
  const config = readConsoleConfig(file, { readTokens: false });
  if (alias === undefined) {
    if (config.clusters.length === 1) return config.clusters[0];
    throw new UsageError(
      `--cluster is required: ${file} has ${config.clusters.map((c) => c.alias).join(', ')}`,
    );
  }
  const found = config.clusters.find((c) => c.alias === alias);
  if (found === undefined)
    throw new UsageError(
      `cluster ${alias} is not in ${file} (it has ${config.clusters.map((c) => c.alias).join(', ')})`,
    );
  return found;
}

/** Runs fn with the operations of the command's cluster, closing its connections after. */
export async function withCluster<T>(
  args: ParsedArgs,
  fn: (ops: ClusterOperations) => Promise<T>,
): Promise<T> {
  const connections = new ClusterConnections([clusterOf(args)]);
  try {
    return await fn(connections.get(connections.aliases()[0]));
  } finally {
    await connections.close();
  }
}

/** One positional argument by position, with a usage error naming it when missing. */
export function positional(args: ParsedArgs, index: number, name: string, usage: string): string {
  const v = args.positional[index];
  if (v === undefined) throw new UsageError(`${name} is required\n\n${usage}`);
  return v;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function cellText(c: unknown): string {
  if (typeof c === 'string' || typeof c === 'number' || typeof c === 'boolean') return String(c);
  return c === null || c === undefined ? '-' : JSON.stringify(c);
}

/** A table for people: a header row and left-aligned columns (numbers right-aligned). */
export function printTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): void {
  const cells = rows.map((r) => r.map(cellText));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null),
  );
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(headers), ...cells.map(line)].join('\n')}\n`);
}

/** Values of a repeatable KEY=VALUE flag. */
export function keyValues(args: ParsedArgs, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of args.flags.get(flag) ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${flag} ${kv}: expected KEY=VALUE`);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** An integer flag, checked. */
export function intFlag(args: ParsedArgs, flag: string, min: number): number | undefined {
  const v = single(args, flag);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min)
    throw new UsageError(`--${flag} must be an integer >= ${min}, got ${v}`);
  return Number(v);
}
