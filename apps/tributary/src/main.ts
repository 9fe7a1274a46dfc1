import 'reflect-metadata';
import { ConfigError } from '@tributary/broker';
import { parseArgs, UsageError } from './args';
import { BROKER_USAGE, runBroker } from './commands/broker.command';
import { MIRROR_USAGE, runMirror } from './commands/mirror.command';
import { DEMO_USAGE, runDemo } from './commands/demo.command';
import { MirrorConfigError } from '@tributary/mirror';
import { CLUSTER_USAGE, runCluster } from './commands/cluster.command';

const USAGE = `tributary: a Kafka-compatible streaming platform

Usage: tributary <command> [options]

Commands:
  broker     run one broker (tributary broker --help)
  mirror     run a replicator worker for the flows of a config file (tributary mirror --help)
  demo       run the demo topology (dc1-a, dc1-b -> dc1-agg -> dc2) in one process
  cluster    run several brokers of a replicated cluster in this process (tributary cluster --help)
  help       show this help

Examples:
  npx tributary broker --node-id 1 --listen 127.0.0.1:9092 --data-dir ./var/b1
  npx tributary broker --config config/single.yaml
  npx tributary broker --node-id 1 --cluster-id demo --redis redis://127.0.0.1:6379 --listen 127.0.0.1:9092 --data-dir ./var/c1
  npx tributary cluster --config config/cluster.yaml`;

const COMMANDS: Record<
  string,
  { usage: string; run: (args: ReturnType<typeof parseArgs>) => Promise<void> }
> = {
  broker: { usage: BROKER_USAGE, run: runBroker },
  mirror: { usage: MIRROR_USAGE, run: runMirror },
  demo: { usage: DEMO_USAGE, run: runDemo },
  cluster: { usage: CLUSTER_USAGE, run: runCluster },
};

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  if (args.command === null || args.command === 'help') {
    console.log(USAGE);
    return;
  }
  const command = COMMANDS[args.command];
  if (command === undefined) throw new UsageError(`unknown command "${args.command}"\n\n${USAGE}`);
  if (args.flags.has('help')) {
    console.log(command.usage);
    return;
  }
  await command.run(args);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof MirrorConfigError) {
    console.error(`tributary: ${err.message}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
