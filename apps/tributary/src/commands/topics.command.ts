import { UsageError, type ParsedArgs } from '../args';
import {
  CLUSTER_OPTIONS,
  checkFlags,
  intFlag,
  keyValues,
  positional,
  printJson,
  printTable,
  wantsJson,
  withCluster,
} from './cli-support';

export const TOPICS_USAGE = `tributary topics <list|describe|create|delete|alter-config> [options]

  list [--include-internal]                 topics with partitions and replication
  describe TOPIC                            partitions (leader, replicas, ISR, offsets) and config overrides
  create TOPIC [--partitions N] [--replication-factor N] [--config KEY=VALUE ...]
  delete TOPIC
  alter-config TOPIC [--set KEY=VALUE ...] [--delete KEY ...]

${CLUSTER_OPTIONS}

Examples:
  npx tributary topics list --bootstrap-server 127.0.0.1:9092
  npx tributary topics create orders --partitions 3 --config retention.ms=86400000 --bootstrap-server 127.0.0.1:9092
  npx tributary topics describe orders --json --console-config config/console.yaml --cluster local`;

export async function runTopics(args: ParsedArgs): Promise<void> {
  const sub = args.positional[0];
  const json = wantsJson(args);
  switch (sub) {
    case 'list': {
      checkFlags(args, ['include-internal']);
      const topics = await withCluster(args, (ops) =>
        ops.listTopics({ includeInternal: args.flags.has('include-internal') }),
      );
      if (json) return printJson(topics);
      return printTable(
        ['TOPIC', 'PARTITIONS', 'REPLICATION-FACTOR', 'UNDER-REPLICATED', 'OFFLINE'],
        topics.map((t) => [
          t.name,
          t.partitions,
          t.replicationFactor,
          t.underReplicatedPartitions,
          t.offlinePartitions,
        ]),
      );
    }
    case 'describe': {
      checkFlags(args, []);
      const name = positional(args, 1, 'TOPIC', TOPICS_USAGE);
      const { topic, configs } = await withCluster(args, async (ops) => ({
        topic: await ops.describeTopic(name),
        configs: await ops.topicConfigs(name),
      }));
      const overrides = configs.filter((c) => c.source === 'DYNAMIC_TOPIC_CONFIG');
      if (json) return printJson({ ...topic, configs: overrides });
      console.log(
        `Topic: ${topic.name}\tTopicId: ${topic.topicId}\tPartitionCount: ${topic.partitions.length}\tReplicationFactor: ${topic.replicationFactor}\tConfigs: ${overrides.map((c) => `${c.name}=${c.value}`).join(',')}`,
      );
      return printTable(
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
    }
    case 'create': {
      checkFlags(args, ['partitions', 'replication-factor', 'config']);
      const name = positional(args, 1, 'TOPIC', TOPICS_USAGE);
      const topic = await withCluster(args, (ops) =>
        ops.createTopic({
          name,
          partitions: intFlag(args, 'partitions', 1),
          replicationFactor: intFlag(args, 'replication-factor', 1),
          configs: keyValues(args, 'config'),
        }),
      );
      if (json) return printJson(topic);
      console.log(
        `Created topic ${topic.name} (${topic.partitions.length} partitions, replication factor ${topic.replicationFactor}).`,
      );
      return;
    }
    case 'delete': {
      checkFlags(args, []);
      const name = positional(args, 1, 'TOPIC', TOPICS_USAGE);
      await withCluster(args, (ops) => ops.deleteTopic(name));
      if (json) return printJson({ deleted: name });
      console.log(`Deleted topic ${name}.`);
      return;
    }
    case 'alter-config': {
      checkFlags(args, ['set', 'delete']);
      const name = positional(args, 1, 'TOPIC', TOPICS_USAGE);
      const set = keyValues(args, 'set');
      const remove = args.flags.get('delete') ?? [];
      if (Object.keys(set).length === 0 && remove.length === 0)
        throw new UsageError('alter-config needs --set KEY=VALUE or --delete KEY');
      const configs = await withCluster(args, (ops) => ops.alterTopicConfigs(name, set, remove));
      const overrides = configs.filter((c) => c.source === 'DYNAMIC_TOPIC_CONFIG');
      if (json) return printJson(configs);
      console.log(`Altered configs of ${name}; its overrides now:`);
      return printTable(
        ['CONFIG', 'VALUE'],
        overrides.map((c) => [c.name, c.value]),
      );
    }
    default:
      throw new UsageError(
        sub === undefined ? TOPICS_USAGE : `unknown topics command "${sub}"\n\n${TOPICS_USAGE}`,
      );
  }
}
