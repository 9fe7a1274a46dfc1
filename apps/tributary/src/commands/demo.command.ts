import { NestFactory } from '@nestjs/core';
import { Command } from 'commander';
import { withLogOptions } from '../cli/options';
import { DemoModule, loadDemoConfig } from '../demo/demo.module';
import { logSettingsOf, type LogFlags } from '../logging/log-settings';
import { startLogging } from '../logging/logger';
import { exitCleanlyOn } from './broker.command';

export interface DemoFlags extends LogFlags {
  readonly config: string;
}

export function demoCommand(): Command {
  return withLogOptions(
    new Command('demo')
      .summary('run the demo topology (dc1-a, dc1-b -> dc1-agg -> dc2) in one process, with its dashboard')
      .description(
        `Runs a whole multi-cluster topology in one process: data center dc1 with clusters dc1-a and dc1-b aggregated into dc1-agg, forwarded to dc2; a private redis-server (unless the file sets redis); the replicator; sample producers and a consumer group; and the console (dashboard, REST API, metrics) over all of it. Ctrl-C stops it cleanly.`,
      )
      .option('--config <FILE>', 'the topology', 'config/demo.yaml'),
  ).action(runDemo);
}

export async function runDemo(flags: DemoFlags): Promise<void> {
  const { config, log } = loadDemoConfig(flags.config);
  const logger = startLogging(logSettingsOf(flags, log));
  const app = await NestFactory.create(DemoModule.forRoot(config), { logger });
  await app.listen(config.consolePort, config.consoleHost);
  exitCleanlyOn(app, ['SIGTERM', 'SIGINT']);
  const url = `http://${config.consoleHost}:${config.consolePort}`;
  const clusters = [...config.mirror.clusters.values()];
  logger.announce('demo', [
    '',
    `Tributary demo: clusters ${clusters.map((c) => `${c.alias} (${c.bootstrapServers})`).join(', ')}`,
    `  flows      ${config.mirror.flows.map((f) => f.name).join(', ')}`,
    `  dashboard  ${url}/`,
    `  REST API   ${url}/api   (interactive docs: ${url}/docs)`,
    `  metrics    ${url}/metrics`,
    `  try        kcat -b ${clusters.at(-1)?.bootstrapServers} -L`,
    'Ctrl-C stops it.',
    '',
  ]);
}
