import { NestFactory } from '@nestjs/core';
import { MirrorConfigError, MirrorModule, MirrorService, readMirrorConfig } from '@tributary/mirror';
import { ParsedArgs, single, UsageError } from '../args';
import { exitCleanlyOn, parseHostPort } from './broker.command';
import { MIRROR_CLI_USAGE, runMirrorCli } from './mirror-cli';
import { serveMirrorMetrics } from './mirror-metrics';

export const MIRROR_USAGE = `tributary mirror --config FILE [--redis URL] [--no-manage] [--metrics-listen HOST:PORT]

Runs a replicator worker: mirrors the flows of FILE (clusters and flows, MirrorMaker 2's
setting names; see config/mirror.yaml). Any number of workers on any number of machines
share one Redis: each source partition is copied by one worker at a time, and a dead
worker's partitions move to a live one within lock.duration.ms.

  --config FILE   the clusters and flows (YAML)
  --redis URL     Redis for BullMQ and the flows' state (else the file's "redis")
  --no-manage     only copy; leave topic discovery, checkpoints and heartbeats to other workers
  --metrics-listen HOST:PORT
                  serve Prometheus metrics at http://HOST:PORT/metrics: the process' own
                  and the lag and latency of the file's flows

${MIRROR_CLI_USAGE}`;

const KNOWN = new Set(['config', 'redis', 'no-manage', 'metrics-listen', 'help']);

/** `tributary mirror --config FILE` runs a worker; `tributary mirror <list|pause|...>` operates flows. */
export async function runMirror(args: ParsedArgs): Promise<void> {
  if (args.positional.length > 0) return runMirrorCli(args);
  for (const name of args.flags.keys())
    if (!KNOWN.has(name)) throw new UsageError(`unknown option --${name}`);
  const file = single(args, 'config');
  if (file === undefined) throw new UsageError(`--config is required\n\n${MIRROR_USAGE}`);
  const config = readMirrorConfig(file);
  const redisUrl = single(args, 'redis') ?? config.redis;
  if (redisUrl === null)
    throw new MirrorConfigError(
      file,
      'redis',
      'is required (or pass --redis URL): workers share their work through Redis',
    );
  if (config.flows.length === 0) throw new MirrorConfigError(file, 'flows', 'no flow is configured');
  const metricsListen = single(args, 'metrics-listen');
  const metricsAddress =
    metricsListen === undefined ? undefined : parseHostPort(metricsListen, '--metrics-listen');
  const app = await NestFactory.createApplicationContext(
    MirrorModule.forRoot({ config, redisUrl, options: { manage: !args.flags.has('no-manage') } }),
    { logger: ['log', 'warn', 'error'] },
  );
  await app.init();
  if (metricsAddress !== undefined) await serveMirrorMetrics(app.get(MirrorService).mirror, metricsAddress);
  exitCleanlyOn(app, ['SIGTERM', 'SIGINT']);
}
