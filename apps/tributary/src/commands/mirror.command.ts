import { NestFactory } from '@nestjs/core';
import { MirrorConfigError, MirrorModule, readMirrorConfig } from '@tributary/mirror';
import { ParsedArgs, single, UsageError } from '../args';
import { exitCleanlyOn } from './broker.command';
import { MIRROR_CLI_USAGE, runMirrorCli } from './mirror-cli';

export const MIRROR_USAGE = `tributary mirror --config FILE [--redis URL] [--no-manage]

Runs a replicator worker: mirrors the flows of FILE (clusters and flows, MirrorMaker 2's
setting names; see config/mirror.yaml). Any number of workers on any number of machines
share one Redis: each source partition is copied by one worker at a time, and a dead
worker's partitions move to a live one within lock.duration.ms.

  --config FILE   the clusters and flows (YAML)
  --redis URL     Redis for BullMQ and the flows' state (else the file's "redis")
  --no-manage     only copy; leave topic discovery, checkpoints and heartbeats to other workers

${MIRROR_CLI_USAGE}`;

const KNOWN = new Set(['config', 'redis', 'no-manage', 'help']);

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
  const app = await NestFactory.createApplicationContext(
    MirrorModule.forRoot({ config, redisUrl, options: { manage: !args.flags.has('no-manage') } }),
    { logger: ['log', 'warn', 'error'] },
  );
  await app.init();
  exitCleanlyOn(app, ['SIGTERM', 'SIGINT']);
}
