import { NestFactory } from '@nestjs/core';
import {
  MirrorConfigError,
  MirrorModule,
  MirrorService,
  parseMirrorConfig,
  parseRedisEndpoint,
  type MirrorConfig,
  type RedisEndpoint,
} from '@tributary/mirror';
import { Command } from 'commander';
import { hostPort, UsageError, withLogOptions, type HostPort } from '../cli/options';
import { readYaml } from '../config-file';
import { logSettingsOf, takeLogSettings, type LogFlags, type LogSettings } from '../logging/log-settings';
import { startLogging } from '../logging/logger';
import { exitCleanlyOn } from './broker.command';
import { flowCommands } from './mirror-cli';
import { serveMirrorMetrics } from './mirror-metrics';

export interface MirrorRunFlags extends LogFlags {
  readonly config?: string;
  readonly redis?: string;
  readonly redisSentinels?: string;
  readonly redisSentinelMaster?: string;
  readonly manage: boolean;
  readonly metricsListen?: HostPort;
}

/** `tributary mirror [run] --config FILE` runs a worker; `tributary mirror <list|pause|...>` operates flows. */
export function mirrorCommand(): Command {
  const mirror = new Command('mirror')
    .summary('run a replicator worker (--config FILE), or list, pause, resume and throttle flows')
    .description(
      `Runs a replicator worker (run, the default: tributary mirror --config FILE), or operates the flows through a running console's REST API.`,
    );
  mirror.addCommand(mirrorRunCommand(mirror), { isDefault: true });
  for (const command of flowCommands()) mirror.addCommand(command);
  return mirror;
}

function mirrorRunCommand(mirror: Command): Command {
  const run = new Command('run')
    .summary('run a replicator worker (the default)')
    .description(
      `Runs a replicator worker: mirrors the flows of FILE (clusters and flows, MirrorMaker 2's setting names; see config/mirror.yaml). Any number of workers on any number of machines share one Redis: each source partition is copied by one worker at a time, and a dead worker's partitions move to a live one within lock.duration.ms.`,
    )
    .option('--config <FILE>', 'the clusters and flows (YAML), required')
    .option('--redis <URL>', `Redis for BullMQ and the flows' state (else the file's "redis")`)
    .option(
      '--redis-sentinels <HOST:PORT,...>',
      'the Redis Sentinels that name the primary, instead of --redis (with --redis-sentinel-master)',
    )
    .option('--redis-sentinel-master <NAME>', 'the name the sentinels monitor the primary under')
    .option('--no-manage', 'only copy; leave topic discovery, checkpoints and heartbeats to other workers')
    .option(
      '--metrics-listen <HOST:PORT>',
      "serve the worker's Prometheus metrics at http://HOST:PORT/metrics: the process' own, and the lag and latency of the file's flows",
      hostPort('--metrics-listen'),
    );
  return (
    withLogOptions(run)
      // Words after `mirror` that name no flow command arrive here, as mirror's default.
      .allowExcessArguments()
      .addHelpText('after', '\nExample:\n  npx tributary mirror --config config/mirror.yaml')
      .hook('preAction', () => {
        if (run.args.length > 0) mirror.error(`unknown mirror command "${run.args[0]}"`);
        if (run.getOptionValue('config') === undefined) run.error('--config FILE is required');
      })
      .action((flags: MirrorRunFlags & { config: string }) => runMirror(flags.config, flags))
  );
}

/** Reads and checks a mirror config file and its log settings; errors name the file and the key. */
export function loadMirrorConfig(file: string): { config: MirrorConfig; log: Partial<LogSettings> } {
  const { log, rest } = takeLogSettings(
    readYaml(file, (key, problem) => new MirrorConfigError(file, key, problem)),
    file,
  );
  return { config: parseMirrorConfig(rest, file), log };
}

export async function runMirror(file: string, flags: MirrorRunFlags): Promise<void> {
  const { config, log } = loadMirrorConfig(file);
  const redis = redisFromFlags(flags) ?? config.redis;
  if (redis === null)
    throw new MirrorConfigError(
      file,
      'redis',
      'is required (or pass --redis URL, or --redis-sentinels with --redis-sentinel-master): workers share their work through Redis',
    );
  if (config.flows.length === 0) throw new MirrorConfigError(file, 'flows', 'no flow is configured');
  const logger = startLogging(logSettingsOf(flags, log));
  const app = await NestFactory.createApplicationContext(
    MirrorModule.forRoot({ config, redis, options: { manage: flags.manage } }),
    { logger },
  );
  await app.init();
  if (flags.metricsListen !== undefined)
    await serveMirrorMetrics(app.get(MirrorService).mirror, flags.metricsListen, (line) =>
      logger.announce('mirror', [line]),
    );
  exitCleanlyOn(app, ['SIGTERM', 'SIGINT']);
}

/** --redis, or --redis-sentinels with --redis-sentinel-master; null: neither (the file's). */
function redisFromFlags(flags: MirrorRunFlags): RedisEndpoint | null {
  const usage = (key: string, text: string): Error =>
    new UsageError(`--${key.replace('redis.', 'redis-').replace('.', '-')} ${text}`);
  if (flags.redis !== undefined) {
    if (flags.redisSentinels !== undefined)
      throw new UsageError('--redis and --redis-sentinels are both given: name one Redis, or the sentinels');
    return parseRedisEndpoint(flags.redis, 'redis', usage);
  }
  if (flags.redisSentinels === undefined) {
    if (flags.redisSentinelMaster !== undefined)
      throw new UsageError('--redis-sentinel-master needs --redis-sentinels');
    return null;
  }
  return parseRedisEndpoint(
    { sentinels: flags.redisSentinels, 'sentinel.master': flags.redisSentinelMaster },
    'redis',
    usage,
  );
}
