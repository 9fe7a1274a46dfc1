import { NestFactory } from '@nestjs/core';
import { DemoModule, loadDemoConfig } from '../demo/demo.module';
import { ParsedArgs, single, UsageError } from '../args';
import { exitCleanlyOn } from './broker.command';

export const DEMO_USAGE = `tributary demo [--config config/demo.yaml]

Runs a whole multi-cluster topology in one process: data center dc1 with clusters dc1-a and
dc1-b aggregated into dc1-agg, forwarded to dc2; a private redis-server (unless the file sets
redis); the replicator; sample producers and a consumer group; and the console (dashboard,
REST API, metrics) over all of it. Ctrl-C stops it cleanly.`;

export async function runDemo(args: ParsedArgs): Promise<void> {
  for (const name of args.flags.keys()) {
    if (name !== 'config' && name !== 'help') throw new UsageError(`unknown option --${name}`);
  }
  const config = loadDemoConfig(single(args, 'config') ?? 'config/demo.yaml');
  const app = await NestFactory.create(DemoModule.forRoot(config), { logger: ['log', 'warn', 'error'] });
  await app.listen(config.consolePort, config.consoleHost);
  exitCleanlyOn(app, ['SIGTERM', 'SIGINT']);
  const url = `http://${config.consoleHost}:${config.consolePort}`;
  const clusters = [...config.mirror.clusters.values()];
  console.log(
    [
      '',
      `Tributary demo: clusters ${clusters.map((c) => `${c.alias} (${c.bootstrapServers})`).join(', ')}`,
      `  flows      ${config.mirror.flows.map((f) => f.name).join(', ')}`,
      `  dashboard  ${url}/`,
      `  REST API   ${url}/api   (interactive docs: ${url}/docs)`,
      `  metrics    ${url}/metrics`,
      `  try        kcat -b ${clusters.at(-1)?.bootstrapServers} -L`,
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
}
