import {
  ConsoleConfigError,
  mirrorFlowSource,
  readConsoleConfig,
  singleClusterConfig,
  startConsole,
  type ClusterConfig,
  type ConsoleSecurity,
  type ConsoleMirror,
} from '@tributary/console';
import { MirrorControl } from '@tributary/mirror';
import { MetricsRegistry } from '@tributary/metrics';
import { single, UsageError, type ParsedArgs } from '../args';
import { parseHostPort } from './broker.command';

export const CONSOLE_USAGE = `tributary console [options]

Runs the operators' console: the dashboard at /, the REST API under /api, its docs at /docs,
Prometheus metrics at /metrics, for every cluster of the config.

  --config FILE                    clusters, HTTP address and bearer tokens (e.g. config/console.yaml);
                                   with a security section every /api and /metrics call needs
                                   Authorization: Bearer <token>; with a mirror section (or
                                   given the workers' mirror config itself) it shows and steers
                                   the flows of the tributary mirror workers sharing its Redis
  --bootstrap-server HOST:PORT     or one cluster without a file (alias: --cluster, default "local")
  --cluster ALIAS
  --listen HOST:PORT               HTTP address (default: the file's http, else 127.0.0.1:8080)

Examples:
  npx tributary console --config config/console.yaml
  npx tributary console --bootstrap-server 127.0.0.1:9092 --listen 127.0.0.1:8080`;

const KNOWN = new Set(['config', 'bootstrap-server', 'cluster', 'listen', 'help']);

export async function runConsole(args: ParsedArgs): Promise<void> {
  for (const name of args.flags.keys())
    if (!KNOWN.has(name)) throw new UsageError(`unknown option --${name}`);
  const file = single(args, 'config');
  const bootstrap = single(args, 'bootstrap-server');
  if ((file === undefined) === (bootstrap === undefined))
    throw new UsageError(`give --config FILE or --bootstrap-server HOST:PORT\n\n${CONSOLE_USAGE}`);
  let clusters: readonly ClusterConfig[];
  let http = { host: '127.0.0.1', port: 8080 };
  let security: ConsoleSecurity | null = null;
  let mirror: ConsoleMirror | null = null;
  if (file !== undefined) {
    const config = readConsoleConfig(file);
    clusters = config.clusters;
    http = config.http;
    security = config.security;
    mirror = config.mirror;
  } else {
    try {
      clusters = [singleClusterConfig(single(args, 'cluster') ?? 'local', bootstrap as string)];
    } catch (err) {
      if (err instanceof ConsoleConfigError) throw new UsageError(err.message);
      throw err;
    }
  }
  const listen = single(args, 'listen');
  if (listen !== undefined) http = parseHostPort(listen, '--listen');
  const metrics = new MetricsRegistry();
  metrics.addProcessMetrics();
  const control = mirror === null ? null : MirrorControl.connect(mirror.config, mirror.redisUrl);
  const running = await startConsole({
    clusters,
    metrics,
    security,
    ...(control === null ? {} : { flows: mirrorFlowSource(() => control) }),
    host: http.host,
    port: http.port,
    // Level log carries the audit of changes (by token name) once security is on.
    logLevels: ['log', 'warn', 'error'],
  });
  console.log(
    `console on ${running.url} for ${clusters.map((c) => c.alias).join(', ')}: dashboard ${running.url}/, API ${running.url}/api, docs ${running.url}/docs, metrics ${running.url}/metrics`,
  );
  console.log(
    security === null
      ? 'console API is open: no security section in the config (anyone who reaches it may change the clusters)'
      : `console API needs a bearer token: ${security.tokens.map((t) => `${t.name} (${t.role})`).join(', ')}`,
  );
  if (mirror !== null)
    console.log(
      `console attached to the mirror workers of ${mirror.config.file} (namespace ${mirror.config.namespace}): flows ${mirror.config.flows.map((f) => f.name).join(', ')}`,
    );
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
