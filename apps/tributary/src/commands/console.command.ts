import {
  ConsoleConfigError,
  mirrorFlowSource,
  singleClusterConfig,
  startConsole,
  type ClusterConfig,
  type ConsoleSecurity,
  type ConsoleMirror,
} from '@tributary/console';
import { MetricsRegistry } from '@tributary/metrics';
import { MirrorControl } from '@tributary/mirror';
import { Command } from 'commander';
import { hostPort, UsageError, withLogOptions, type HostPort } from '../cli/options';
import { readConsoleFile } from '../config-file';
import { logSettingsOf, type LogFlags, type LogSettings } from '../logging/log-settings';
import { startLogging } from '../logging/logger';

export interface ConsoleFlags extends LogFlags {
  readonly config?: string;
  readonly bootstrapServer?: string;
  readonly cluster?: string;
  readonly listen?: HostPort;
}

export function consoleCommand(): Command {
  return withLogOptions(
    new Command('console')
      .summary('run the console: dashboard, REST API, metrics')
      .description(
        `Runs the operators' console: the dashboard at /, the REST API under /api, its docs at /docs, Prometheus metrics at /metrics, for every cluster of the config.`,
      )
      .option(
        '--config <FILE>',
        "clusters, HTTP address and bearer tokens (e.g. config/console.yaml); with a security section every /api and /metrics call needs Authorization: Bearer <token>; with a mirror section, or given the workers' mirror config itself, it shows and steers the flows of the tributary mirror workers sharing its Redis",
      )
      .option('--bootstrap-server <HOST:PORT>', 'or one cluster without a file')
      .option('--cluster <ALIAS>', 'the alias of that cluster (default "local")')
      .option(
        '--listen <HOST:PORT>',
        "HTTP address (default: the file's http, else 127.0.0.1:8080)",
        hostPort('--listen'),
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  npx tributary console --config config/console.yaml
  npx tributary console --bootstrap-server 127.0.0.1:9092 --listen 127.0.0.1:8080`,
    )
    .action(runConsole);
}

export async function runConsole(flags: ConsoleFlags, cmd: Command): Promise<void> {
  const file = flags.config;
  const bootstrap = flags.bootstrapServer;
  if ((file === undefined) === (bootstrap === undefined))
    cmd.error('give --config FILE or --bootstrap-server HOST:PORT');
  let clusters: readonly ClusterConfig[];
  let http: HostPort = { host: '127.0.0.1', port: 8080 };
  let security: ConsoleSecurity | null = null;
  let mirror: ConsoleMirror | null = null;
  let log: Partial<LogSettings> = {};
  if (file !== undefined) {
    const read = readConsoleFile(file);
    clusters = read.config.clusters;
    http = read.config.http;
    security = read.config.security;
    mirror = read.config.mirror;
    log = read.log;
  } else {
    try {
      clusters = [singleClusterConfig(flags.cluster ?? 'local', bootstrap as string)];
    } catch (err) {
      if (err instanceof ConsoleConfigError) throw new UsageError(err.message);
      throw err;
    }
  }
  if (flags.listen !== undefined) http = flags.listen;
  const logger = startLogging(logSettingsOf(flags, log));
  const metrics = new MetricsRegistry();
  metrics.addProcessMetrics();
  const control = mirror === null ? null : MirrorControl.connect(mirror.config, mirror.redis);
  const running = await startConsole({
    clusters,
    metrics,
    security,
    ...(control === null ? {} : { flows: mirrorFlowSource(() => control) }),
    host: http.host,
    port: http.port,
    // Info carries the audit of changes (by token name) once security is on.
    logger,
  });
  logger.announce('console', [
    `console on ${running.url} for ${clusters.map((c) => c.alias).join(', ')}: dashboard ${running.url}/, API ${running.url}/api, docs ${running.url}/docs, metrics ${running.url}/metrics`,
    security === null
      ? 'console API is open: no security section in the config (anyone who reaches it may change the clusters)'
      : `console API needs a bearer token: ${security.tokens.map((t) => `${t.name} (${t.role})`).join(', ')}`,
    ...(mirror === null
      ? []
      : [
          `console attached to the mirror workers of ${mirror.config.file} (namespace ${mirror.config.namespace}): flows ${mirror.config.flows.map((f) => f.name).join(', ')}`,
        ]),
  ]);
  let closing = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (closing) return;
      closing = true;
      running
        .close()
        .then(() => control?.close())
        .then(
          () => process.exit(0),
          (err: unknown) => {
            console.error(`tributary: shutdown failed: ${(err as Error).stack ?? String(err)}`);
            process.exit(1);
          },
        );
    });
  }
}
