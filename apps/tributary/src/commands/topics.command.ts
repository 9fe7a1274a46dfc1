import { Command } from 'commander';
import { integer, keyValues, many, UsageError } from '../cli/options';
import { printJson, printTable, withCluster, withClusterOptions, type ClusterFlags } from './cli-support';

interface ListFlags extends ClusterFlags {
  readonly includeInternal?: boolean;
}

interface CreateFlags extends ClusterFlags {
  readonly partitions?: number;
  readonly replicationFactor?: number;
  readonly config?: Record<string, string>;
}

interface AlterConfigFlags extends ClusterFlags {
  readonly set?: Record<string, string>;
  readonly delete?: string[];
}

const EXAMPLES = `
Examples:
  npx tributary topics list --bootstrap-server 127.0.0.1:9092
  npx tributary topics create orders --partitions 3 --config retention.ms=86400000 --bootstrap-server 127.0.0.1:9092
  npx tributary topics describe orders --json --console-config config/console.yaml --cluster local`;

/** `tributary topics <list|describe|create|delete|alter-config>`: one entry per subcommand. */
export function topicsCommand(): Command {
  const topics = new Command('topics')
    .summary('list, describe, create, delete topics and alter their configs')
    .addHelpText('after', EXAMPLES);
  const sub = (name: string, summary: string): Command =>
    topics
      .command(name)
      .summary(summary)
      .description(`${summary[0].toUpperCase()}${summary.slice(1)}.`)
      .addHelpText('after', EXAMPLES);

  sub('list', 'topics with partitions and replication')
    .option('--include-internal', 'also internal topics (__consumer_offsets)')
    .action(async (flags: ListFlags) => {
      const list = await withCluster(flags, (ops) =>
        ops.listTopics({ includeInternal: flags.includeInternal === true }),
      );
      if (flags.json) return printJson(list);
      printTable(
        ['TOPIC', 'PARTITIONS', 'REPLICATION-FACTOR', 'UNDER-REPLICATED', 'OFFLINE'],
        list.map((t) => [
          t.name,
          t.partitions,
          t.replicationFactor,
          t.underReplicatedPartitions,
          t.offlinePartitions,
        ]),
      );
    });

  sub('describe', 'partitions (leader, replicas, ISR, offsets) and config overrides')
    .argument('<TOPIC>')
    .action(async (name: string, flags: ClusterFlags) => {
      const { topic, configs } = await withCluster(flags, async (ops) => ({
        topic: await ops.describeTopic(name),
        configs: await ops.topicConfigs(name),
      }));
      const overrides = configs.filter((c) => c.source === 'DYNAMIC_TOPIC_CONFIG');
      if (flags.json) return printJson({ ...topic, configs: overrides });
      console.log(
        `Topic: ${topic.name}\tTopicId: ${topic.topicId}\tPartitionCount: ${topic.partitions.length}\tReplicationFactor: ${topic.replicationFactor}\tConfigs: ${overrides.map((c) => `${c.name}=${c.value}`).join(',')}`,
      );
      printTable(
        ['PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'LOG-START-OFFSET', 'LOG-END-OFFSET'],
        topic.partitions.map((p) => [
          p.partition,
          p.leader,
          p.replicas.join(','),
          p.isr.join(','),
          p.logStartOffset,
          p.logEndOffset,
        ]),
      );
    });

  sub('create', 'create a topic')
    .argument('<TOPIC>')
    .option('--partitions <N>', 'num.partitions of the broker if not given', integer('--partitions', 1))
    .option(
      '--replication-factor <N>',
      'default.replication.factor of the broker if not given',
      integer('--replication-factor', 1),
    )
    .option('--config <KEY=VALUE>', 'a topic config, repeatable', keyValues('--config'))
    .action(async (name: string, flags: CreateFlags) => {
      const topic = await withCluster(flags, (ops) =>
        ops.createTopic({
          name,
          partitions: flags.partitions,
          replicationFactor: flags.replicationFactor,
          configs: flags.config ?? {},
        }),
      );
      if (flags.json) return printJson(topic);
      console.log(
        `Created topic ${topic.name} (${topic.partitions.length} partitions, replication factor ${topic.replicationFactor}).`,
      );
    });

  sub('delete', 'delete a topic')
    .argument('<TOPIC>')
    .action(async (name: string, flags: ClusterFlags) => {
      await withCluster(flags, (ops) => ops.deleteTopic(name));
      if (flags.json) return printJson({ deleted: name });
      console.log(`Deleted topic ${name}.`);
    });

  sub('alter-config', "set or remove a topic's config overrides")
    .argument('<TOPIC>')
    .option('--set <KEY=VALUE>', 'set an override, repeatable', keyValues('--set'))
    .option('--delete <KEY>', 'remove an override (back to the default), repeatable', many())
    .action(async (name: string, flags: AlterConfigFlags) => {
      const set = flags.set ?? {};
      const remove = flags.delete ?? [];
      if (Object.keys(set).length === 0 && remove.length === 0)
        throw new UsageError('alter-config needs --set KEY=VALUE or --delete KEY');
      const configs = await withCluster(flags, (ops) => ops.alterTopicConfigs(name, set, remove));
      const overrides = configs.filter((c) => c.source === 'DYNAMIC_TOPIC_CONFIG');
      if (flags.json) return printJson(configs);
      console.log(`Altered configs of ${name}; its overrides now:`);
      printTable(
        ['CONFIG', 'VALUE'],
        overrides.map((c) => [c.name, c.value]),
      );
    });

  // After each command's own options, so its help lists them first.
  for (const command of topics.commands) withClusterOptions(command);
  return topics;
}
