import { NestFactory } from '@nestjs/core';
import { BrokerModule, ConfigError, parseBrokerConfig, type BrokerConfig } from '@tributary/broker';
import { brokerLevelLogKeys } from '@tributary/storage';
import { Command } from 'commander';
import { keyValues, withLogOptions } from '../cli/options';
import { flattenConfig, readYaml } from '../config-file';
import { logSettingsOf, takeLogSettings, type LogFlags, type LogSettings } from '../logging/log-settings';
import { startLogging } from '../logging/logger';
import { commonFlags, exitCleanlyOn, membershipFor, type CommonFlags } from './broker.command';

export interface ClusterCommandFlags extends CommonFlags, LogFlags {
  readonly config: string;
}

export function clusterCommand(): Command {
  return withLogOptions(
    new Command('cluster')
      .summary('run several brokers of a replicated cluster in this process')
      .description(
        `Runs several brokers of one replicated cluster in this process (a laptop or a demo), each with its own listener and data dir, coordinated through Redis exactly as separate broker processes are. The file holds the settings all brokers share, and a list "brokers" of each broker's own (node.id, listeners, log.dirs, broker.rack, ...); see config/cluster.yaml.`,
      )
      .requiredOption('--config <FILE>', 'YAML file of the cluster')
      .option('--redis <URL>', 'redis.url for every broker')
      .option('--redis-sentinels <HOST:PORT,...>', 'redis.sentinels for every broker (instead of --redis)')
      .option('--redis-sentinel-master <NAME>', 'redis.sentinel.master for every broker')
      .option(
        '--set <KEY=VALUE>',
        'a setting for every broker, repeatable; wins over the file',
        keyValues('--set'),
      ),
  )
    .addHelpText('after', '\nExample:\n  npx tributary cluster --config config/cluster.yaml')
    .action(runCluster);
}

/** Every broker's config (the file's shared keys, then the broker's own, then the flags) and the file's log settings. */
export function clusterConfigs(flags: ClusterCommandFlags): {
  readonly configs: BrokerConfig[];
  readonly log: Partial<LogSettings>;
} {
  const file = flags.config;
  const { log, rest: doc } = takeLogSettings(
    readYaml(file, (key, problem) => new ConfigError(file, key, problem)),
    file,
  );
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(
      file,
      '(top level)',
      'must be a map of config keys to values, with a list "brokers"',
    );
  }
  const { brokers, ...shared } = doc as Record<string, unknown>;
  if (!Array.isArray(brokers) || brokers.length === 0) {
    throw new ConfigError(file, 'brokers', 'must be a list of the brokers, each a map of its own settings');
  }
  const flagLayer = { source: 'command line', values: commonFlags(flags) };
  const configs = brokers.map((b: unknown, i) => {
    const source = `${file} brokers[${i}]`;
    if (b === null || typeof b !== 'object' || Array.isArray(b))
      throw new ConfigError(source, '(entry)', 'must be a map');
    return parseBrokerConfig(
      [
        { source: file, values: flattenConfig(shared) },
        { source, values: flattenConfig(b as Record<string, unknown>) },
        flagLayer,
      ],
      brokerLevelLogKeys(),
    );
  });
  const ids = new Set<number>();
  const dirs = new Set<string>();
  for (const [i, c] of configs.entries()) {
    const source = `${file} brokers[${i}]`;
    if (ids.has(c.nodeId)) throw new ConfigError(source, 'node.id', `${c.nodeId} is used by another broker`);
    if (dirs.has(c.logDirs))
      throw new ConfigError(source, 'log.dirs', `${c.logDirs} is used by another broker`);
    if (c.replication.redis === null && configs.length > 1) {
      throw new ConfigError(
        source,
        'redis.url',
        'brokers of a cluster coordinate through Redis: set redis.url (or redis.sentinels)',
      );
    }
    ids.add(c.nodeId);
    dirs.add(c.logDirs);
  }
  return { configs, log };
}

export async function runCluster(flags: ClusterCommandFlags): Promise<void> {
  const { configs, log } = clusterConfigs(flags);
  const logger = startLogging(logSettingsOf(flags, log));
  const app = await NestFactory.createApplicationContext(
    BrokerModule.forRoot({ brokers: configs, membership: membershipFor, loggerLevels: logger }),
    { logger },
  );
  await app.init();
  exitCleanlyOn(app, ['SIGTERM', 'SIGINT']);
}
