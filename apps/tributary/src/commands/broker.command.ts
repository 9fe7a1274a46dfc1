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
import { Command } from 'commander';
import { hostPort, keyValues, withLogOptions, type HostPort } from '../cli/options';
import { readConfigFile } from '../config-file';
import { logSettingsOf, type LogFlags, type LogSettings } from '../logging/log-settings';
import { startLogging } from '../logging/logger';

export interface BrokerFlags extends CommonFlags, LogFlags {
  readonly config?: string;
  readonly nodeId?: string;
  readonly listen?: string;
  readonly dataDir?: string;
  readonly clusterId?: string;
  readonly metricsListen?: HostPort;
}

/** The flags every broker of a command shares. */
export interface CommonFlags {
  readonly redis?: string;
  readonly redisSentinels?: string;
  readonly redisSentinelMaster?: string;
  readonly set?: Readonly<Record<string, string>>;
}

export function brokerCommand(): Command {
  return withLogOptions(
    new Command('broker')
      .summary('run one broker')
      .description("Starts one broker. Settings use Kafka's names; flags win over the file.")
      .option('--config <FILE>', 'YAML file of broker settings (e.g. config/single.yaml)')
      .option('--node-id <N>', 'node.id')
      .option('--listen <HOST:PORT>', 'listeners=PLAINTEXT://HOST:PORT')
      .option('--data-dir <DIR>', 'log.dirs')
      .option('--cluster-id <ID>', 'cluster.id')
      .option(
        '--redis <URL>',
        'redis.url: join a replicated cluster coordinated through Redis (redis://HOST:PORT); without it the broker is a cluster of one',
      )
      .option(
        '--redis-sentinels <HOST:PORT,...>',
        'redis.sentinels: the Redis Sentinels that name the primary (instead of --redis)',
      )
      .option('--redis-sentinel-master <NAME>', 'redis.sentinel.master: the name the sentinels monitor')
      .option(
        '--set <KEY=VALUE>',
        'any other setting, repeatable (e.g. --set num.partitions=3)',
        keyValues('--set'),
      )
      .option(
        '--metrics-listen <HOST:PORT>',
        'serve Prometheus metrics at http://HOST:PORT/metrics',
        hostPort('--metrics-listen'),
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  npx tributary broker --node-id 1 --listen 127.0.0.1:9092 --data-dir ./var/b1
  npx tributary broker --config config/single.yaml --set num.partitions=3
  npx tributary broker --node-id 1 --cluster-id demo --redis redis://127.0.0.1:6379 --listen 127.0.0.1:9092 --data-dir ./var/c1
  npx tributary broker --node-id 1 --cluster-id demo --redis-sentinels 10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379 --redis-sentinel-master tributary --listen 127.0.0.1:9092 --data-dir ./var/c1`,
    )
    .action(runBroker);
}

/** The config layers of a broker command (the file, then the flags) and the file's log settings. */
export function brokerConfigLayers(flags: BrokerFlags): {
  readonly layers: ConfigLayer[];
  readonly log: Partial<LogSettings>;
} {
  const layers: ConfigLayer[] = [];
  let log: Partial<LogSettings> = {};
  if (flags.config !== undefined) {
    const file = readConfigFile(flags.config);
    layers.push({ source: flags.config, values: file.values });
    log = file.log;
  }
  const values: Record<string, string> = {};
  if (flags.nodeId !== undefined) values['node.id'] = flags.nodeId;
  if (flags.listen !== undefined)
    values['listeners'] = flags.listen.includes('://') ? flags.listen : `PLAINTEXT://${flags.listen}`;
  if (flags.dataDir !== undefined) values['log.dirs'] = flags.dataDir;
  if (flags.clusterId !== undefined) values['cluster.id'] = flags.clusterId;
  Object.assign(values, commonFlags(flags));
  layers.push({ source: 'command line', values });
  return { layers, log };
}

/** --redis, --redis-sentinels, --redis-sentinel-master and --set as settings. */
export function commonFlags(flags: CommonFlags): Record<string, string> {
  return {
    ...(flags.redis === undefined ? {} : { 'redis.url': flags.redis }),
    ...(flags.redisSentinels === undefined ? {} : { 'redis.sentinels': flags.redisSentinels }),
    ...(flags.redisSentinelMaster === undefined
      ? {}
      : { 'redis.sentinel.master': flags.redisSentinelMaster }),
    ...flags.set,
  };
}

/** A broker with redis.url or redis.sentinels joins a replicated cluster; one without is a cluster of one. */
export function membershipFor(config: BrokerConfig): MembershipFactory | undefined {
  return config.replication.redis === null ? undefined : replicatedMembership;
}

export async function runBroker(flags: BrokerFlags): Promise<void> {
  const { layers, log } = brokerConfigLayers(flags);
  const config = parseBrokerConfig(layers, brokerLevelLogKeys());
  const metricsAddress = flags.metricsListen;
  const logger = startLogging(logSettingsOf(flags, log));
  // Metrics are kept only when something serves them: otherwise the router observes nothing.
  const registry = metricsAddress === undefined ? undefined : new MetricsRegistry();
  registry?.addProcessMetrics();
  const app = await NestFactory.createApplicationContext(
    BrokerModule.forRoot({ brokers: [config], membership: membershipFor, registry, loggerLevels: logger }),
    { logger },
  );
  await app.init();
  if (registry !== undefined && metricsAddress !== undefined) {
    const server = await startMetricsServer(registry, metricsAddress);
    logger.announce('metrics', [`metrics on http://${server.host}:${server.port}/metrics`]);
  }
  exitCleanlyOn(app, ['SIGTERM', 'SIGINT']);
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
