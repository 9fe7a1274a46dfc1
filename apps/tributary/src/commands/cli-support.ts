import {
  ClusterConnections,
  singleClusterConfig,
  type ClusterConfig,
  type ClusterOperations,
} from '@tributary/console';
import { Option, type Command } from 'commander';
import { UsageError } from '../cli/options';
import { readConsoleFile } from '../config-file';

/** The options of every command that works on one cluster (topics, groups). */
export interface ClusterFlags {
  readonly bootstrapServer?: string;
  readonly consoleConfig?: string;
  readonly cluster?: string;
  readonly json?: boolean;
}

export function withClusterOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--bootstrap-server <HOST:PORT[,HOST:PORT]>', "the cluster's brokers").helpGroup(
        'Cluster (one of):',
      ),
    )
    .addOption(
      new Option('--console-config <FILE>', 'a console config (config/console.yaml) ...').helpGroup(
        'Cluster (one of):',
      ),
    )
    .addOption(
      new Option('--cluster <ALIAS>', '... and the alias of the cluster in it').helpGroup(
        'Cluster (one of):',
      ),
    )
    .addOption(new Option('--json', 'JSON for scripts instead of tables').helpGroup('Output:'));
}

/** The cluster a command works on, from --bootstrap-server or --console-config and --cluster. */
export function clusterOf(flags: ClusterFlags): ClusterConfig {
  const bootstrap = flags.bootstrapServer;
  const file = flags.consoleConfig;
  const alias = flags.cluster;
  if (bootstrap !== undefined) {
    if (file !== undefined) throw new UsageError('give --bootstrap-server or --console-config, not both');
    return singleClusterConfig(alias ?? bootstrap, bootstrap);
  }
  if (file === undefined)
    throw new UsageError(
      '--bootstrap-server HOST:PORT is required (or --console-config FILE --cluster ALIAS)',
    );
  // The console's bearer tokens are for its HTTP API, not for reaching the clusters.
  const { config } = readConsoleFile(file, { readTokens: false });
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
  flags: ClusterFlags,
  fn: (ops: ClusterOperations) => Promise<T>,
): Promise<T> {
  const connections = new ClusterConnections([clusterOf(flags)]);
  try {
    return await fn(connections.get(connections.aliases()[0]));
  } finally {
    await connections.close();
  }
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
