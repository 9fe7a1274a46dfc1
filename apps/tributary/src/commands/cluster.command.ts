import fs from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { parse } from 'yaml';
import { BrokerModule, ConfigError, parseBrokerConfig, type BrokerConfig } from '@tributary/broker';
import { brokerLevelLogKeys } from '@tributary/storage';
import { flattenConfig } from '../config-file';
import { ParsedArgs, single, UsageError } from '../args';
import { commonFlags, exitCleanlyOn, membershipFor } from './broker.command';

export const CLUSTER_USAGE = `tributary cluster --config FILE [options]

Runs several brokers of one replicated cluster in this process (a laptop or a demo), each
with its own listener and data dir, coordinated through Redis exactly as separate broker
processes are. The file holds the settings all brokers share, and a list "brokers" of each
broker's own (node.id, listeners, log.dirs, broker.rack, ...); see config/cluster.yaml.

  --config FILE        YAML file of the cluster (required)
  --redis URL          redis.url for every broker
  --set KEY=VALUE      a setting for every broker, repeatable; wins over the file`;

const KNOWN_FLAGS = new Set(['config', 'redis', 'set', 'help']);

/** Every broker's config: the file's shared keys, then the broker's own, then the flags. */
export function clusterConfigs(args: ParsedArgs): BrokerConfig[] {
  for (const name of args.flags.keys()) {
    if (!KNOWN_FLAGS.has(name)) throw new UsageError(`unknown option --${name}`);
  }
  const file = single(args, 'config');
  if (file === undefined) throw new UsageError('tributary cluster needs --config FILE');
  let doc: unknown;
  try {
    doc = parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, '(file)', (err as Error).message.split('\n')[0]);
  }
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
  const flags = { source: 'command line', values: commonFlags(args) };
  const configs = brokers.map((b: unknown, i) => {
    const source = `${file} brokers[${i}]`;
    if (b === null || typeof b !== 'object' || Array.isArray(b))
      throw new ConfigError(source, '(entry)', 'must be a map');
    return parseBrokerConfig(
      [
        { source: file, values: flattenConfig(shared) },
        { source, values: flattenConfig(b as Record<string, unknown>) },
        flags,
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
    if (c.replication.redisUrl === null && configs.length > 1) {
      throw new ConfigError(
        source,
        'redis.url',
        'brokers of a cluster coordinate through Redis: set redis.url',
      );
    }
    ids.add(c.nodeId);
    dirs.add(c.logDirs);
  }
  return configs;
}

export async function runCluster(args: ParsedArgs): Promise<void> {
  const configs = clusterConfigs(args);
  const app = await NestFactory.createApplicationContext(
    BrokerModule.forRoot({ brokers: configs, membership: membershipFor }),
    { logger: ['log', 'warn', 'error'] },
  );
  await app.init();
  exitCleanlyOn(app, ['SIGTERM', 'SIGINT']);
}
