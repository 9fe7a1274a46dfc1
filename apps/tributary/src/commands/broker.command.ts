import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  BrokerModule,
  ConfigLayer,
  parseBrokerConfig,
  type BrokerConfig,
  type MembershipFactory,
} from '@tributary/broker';
import { replicatedMembership } from '@tributary/cluster';
import { MetricsRegistry, startMetricsServer } from '@tributary/metrics';
import { brokerLevelLogKeys } from '@tributary/storage';
import { readConfigFile } from '../config-file';
import { ParsedArgs, single, UsageError } from '../args';

export const BROKER_USAGE = `tributary broker [options]

Starts one broker. Settings use Kafka's names; flags win over the file.

  --config FILE        YAML file of broker settings (e.g. config/single.yaml)
  --node-id N          node.id
  --listen HOST:PORT   listeners=PLAINTEXT://HOST:PORT
  --data-dir DIR       log.dirs
  --cluster-id ID      cluster.id
  --redis URL          redis.url: join a replicated cluster coordinated through Redis
                       (redis://HOST:PORT); without it the broker is a cluster of one
  --set KEY=VALUE      any other setting, repeatable (e.g. --set num.partitions=3)
  --metrics-listen HOST:PORT
                       serve Prometheus metrics at http://HOST:PORT/metrics`;

const KNOWN_FLAGS = new Set([
  'config',
  'node-id',
  'listen',
  'data-dir',
  'cluster-id',
  'redis',
  'set',
  'metrics-listen',
  'help',
]);

/** The config layers of a broker command: the file, then the flags. */
export function brokerConfigLayers(args: ParsedArgs): ConfigLayer[] {
  for (const name of args.flags.keys()) {
    if (!KNOWN_FLAGS.has(name)) throw new UsageError(`unknown option --${name}`);
  }
  const layers: ConfigLayer[] = [];
  const file = single(args, 'config');
  if (file !== undefined) layers.push({ source: file, values: readConfigFile(file) });
  const flags: Record<string, string> = {};
  const nodeId = single(args, 'node-id');
  if (nodeId !== undefined) flags['node.id'] = nodeId;
  const listen = single(args, 'listen');
  if (listen !== undefined) flags['listeners'] = listen.includes('://') ? listen : `PLAINTEXT://${listen}`;
  const dataDir = single(args, 'data-dir');
  if (dataDir !== undefined) flags['log.dirs'] = dataDir;
  const clusterId = single(args, 'cluster-id');
  if (clusterId !== undefined) flags['cluster.id'] = clusterId;
  Object.assign(flags, commonFlags(args));
  layers.push({ source: 'command line', values: flags });
  return layers;
}

/** The flags every broker of a command shares: --redis and --set. */
export function commonFlags(args: ParsedArgs): Record<string, string> {
  const flags: Record<string, string> = {};
  const redis = single(args, 'redis');
  if (redis !== undefined) flags['redis.url'] = redis;
  for (const kv of args.flags.get('set') ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set ${kv}: expected KEY=VALUE`);
    flags[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return flags;
}

/** A broker with redis.url joins a replicated cluster; one without is a cluster of one. */
export function membershipFor(config: BrokerConfig): MembershipFactory | undefined {
  return config.replication.redisUrl === null ? undefined : replicatedMembership;
}

export async function runBroker(args: ParsedArgs): Promise<void> {
  const config = parseBrokerConfig(brokerConfigLayers(args), brokerLevelLogKeys());
  const metricsListen = single(args, 'metrics-listen');
  const metricsAddress =
    metricsListen === undefined ? undefined : parseHostPort(metricsListen, '--metrics-listen');
  // Metrics are kept only when something serves them: otherwise the router observes nothing.
  const registry = metricsAddress === undefined ? undefined : new MetricsRegistry();
  registry?.addProcessMetrics();
  const app = await NestFactory.createApplicationContext(
    BrokerModule.forRoot({ brokers: [config], membership: membershipFor, registry }),
    { logger: ['log', 'warn', 'error'] },
  );
  await app.init();
  if (registry !== undefined && metricsAddress !== undefined) {
    const server = await startMetricsServer(registry, metricsAddress);
    console.log(`metrics on http://${server.host}:${server.port}/metrics`);
  }
  exitCleanlyOn(app, ['SIGTERM', 'SIGINT']);
}

export function parseHostPort(value: string, flag: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value);
  if (m === null || Number(m[2]) > 65535) throw new UsageError(`${flag} ${value}: expected HOST:PORT`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** On a signal: close the app (answering in-flight requests, flushing logs), then exit 0. */
export function exitCleanlyOn(app: INestApplicationContext, signals: readonly NodeJS.Signals[]): void {
  let closing = false;
  for (const signal of signals) {
    process.on(signal, () => {
      if (closing) return;
      closing = true;
      app.close().then(
        () => process.exit(0),
        (err: unknown) => {
          console.error(`tributary: shutdown failed: ${(err as Error).stack ?? String(err)}`);
          process.exit(1);
        },
      );
    });
  }
}
