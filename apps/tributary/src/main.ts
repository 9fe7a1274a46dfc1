import 'reflect-metadata';
import { ConfigError } from '@tributary/broker';
import { KafkaProtocolError } from '@tributary/client';
import { ApiError, ConsoleConfigError } from '@tributary/console';
import { parseArgs, UsageError } from './args';
import { BROKER_USAGE, runBroker } from './commands/broker.command';
import { MirrorConfigError } from '@tributary/mirror';
import { CLUSTER_USAGE, runCluster } from './commands/cluster.command';
import { CONSOLE_USAGE, runConsole } from './commands/console.command';
import { DEMO_USAGE, runDemo } from './commands/demo.command';
import { GROUPS_USAGE, runGroups } from './commands/groups.command';
import { MIRROR_USAGE, runMirror } from './commands/mirror.command';
import { runTopics, TOPICS_USAGE } from './commands/topics.command';

const USAGE = `tributary: a Kafka-compatible streaming platform

Usage: tributary <command> [options]

Commands:
  broker     run one broker (tributary broker --help)
  demo       run the demo topology (dc1-a, dc1-b -> dc1-agg -> dc2) in one process, with its dashboard
  cluster    run several brokers of a replicated cluster in this process (tributary cluster --help)
  mirror     run a replicator worker (--config FILE), or list, pause, resume and throttle flows
  console    run the console: dashboard, REST API, metrics (tributary console --help)
  topics     list, describe, create, delete topics and alter their configs
  groups     list and describe consumer groups, reset their offsets
  help       show this help

Examples:
  npx tributary broker --node-id 1 --listen 127.0.0.1:9092 --data-dir ./var/b1
  npx tributary broker --config config/single.yaml
  npx tributary broker --node-id 1 --cluster-id demo --redis redis://127.0.0.1:6379 --listen 127.0.0.1:9092 --data-dir ./var/c1
  npx tributary cluster --config config/cluster.yaml
  npx tributary console --config config/console.yaml
  npx tributary topics list --bootstrap-server 127.0.0.1:9092
  npx tributary groups describe billing --bootstrap-server 127.0.0.1:9092 --json`;

const COMMANDS: Record<
  string,
  { usage: string; run: (args: ReturnType<typeof parseArgs>) => Promise<void> }
> = {
  broker: { usage: BROKER_USAGE, run: runBroker },
  demo: { usage: DEMO_USAGE, run: runDemo },
  cluster: { usage: CLUSTER_USAGE, run: runCluster },
  mirror: { usage: MIRROR_USAGE, run: runMirror },
  console: { usage: CONSOLE_USAGE, run: runConsole },
  topics: { usage: TOPICS_USAGE, run: runTopics },
  groups: { usage: GROUPS_USAGE, run: runGroups },
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
  if (
    err instanceof UsageError ||
    err instanceof ConfigError ||
    err instanceof MirrorConfigError ||
    err instanceof ConsoleConfigError
  ) {
    console.error(`tributary: ${err.message}`);
    process.exit(2);
  }
  // What the cluster answered (a topic that exists, a group with members): said plainly.
  if (err instanceof ApiError || err instanceof KafkaProtocolError) {
    console.error(`tributary: ${err.message}`);
    process.exit(1);
  }
  console.error(err);
  process.exit(1);
});
