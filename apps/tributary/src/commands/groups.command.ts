import type { ResetTarget } from '@tributary/console';
import { Command, Option } from 'commander';
import { integer, many, UsageError } from '../cli/options';
import { printJson, printTable, withCluster, withClusterOptions, type ClusterFlags } from './cli-support';

interface ResetFlags extends ClusterFlags {
  readonly toEarliest?: boolean;
  readonly toLatest?: boolean;
  readonly toDatetime?: number;
  readonly toOffset?: number;
  readonly fromCheckpoints?: string;
  readonly topic?: string[];
  readonly allTopics?: boolean;
  readonly execute?: boolean;
  readonly dryRun?: boolean;
}

const EXAMPLES = `
Examples:
  npx tributary groups describe billing --bootstrap-server 127.0.0.1:9092
  npx tributary groups reset-offsets billing --to-earliest --topic orders --execute --bootstrap-server 127.0.0.1:9092
  npx tributary groups reset-offsets billing --from-checkpoints dc1 --execute --bootstrap-server 127.0.0.1:9095`;

/** --to-datetime: ISO-8601 or epoch ms. */
function datetime(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(ms))
    throw new UsageError(`--to-datetime ${value}: expected ISO-8601 (2024-05-01T12:00:00Z) or epoch ms`);
  return ms;
}

function resetTarget(flags: ResetFlags): ResetTarget {
  const targets: ResetTarget[] = [];
  if (flags.toEarliest) targets.push({ to: 'earliest' });
  if (flags.toLatest) targets.push({ to: 'latest' });
  if (flags.toDatetime !== undefined) targets.push({ to: 'timestamp', timestamp: flags.toDatetime });
  if (flags.toOffset !== undefined) targets.push({ to: 'offset', offset: flags.toOffset });
  if (flags.fromCheckpoints !== undefined) targets.push({ to: 'checkpoints', source: flags.fromCheckpoints });
  if (targets.length !== 1)
    throw new UsageError(
      'give exactly one of --to-earliest, --to-latest, --to-datetime, --to-offset, --from-checkpoints',
    );
  return targets[0];
}

/** --topic orders or --topic orders:0,2 (repeatable); undefined with --all-topics. */
function resetScope(flags: ResetFlags): { topic: string; partitions?: number[] }[] | undefined {
  const topics = flags.topic ?? [];
  const all = flags.allTopics === true;
  // From checkpoints, the partitions checkpointed are the default scope.
  if (flags.fromCheckpoints !== undefined && !all && topics.length === 0) return undefined;
  if (all === topics.length > 0)
    throw new UsageError('give --topic TOPIC[:P,P] (repeatable) or --all-topics');
  if (all) return undefined;
  return topics.map((t) => {
    const [topic, list] = t.split(':');
    if (list === undefined) return { topic };
    const partitions = list.split(',').map((p) => {
      if (!/^\d+$/.test(p)) throw new UsageError(`--topic ${t}: partitions must be integers, as orders:0,1`);
      return Number(p);
    });
    return { topic, partitions };
  });
}

/** `tributary groups <list|describe|reset-offsets|delete>`: one entry per subcommand. */
export function groupsCommand(): Command {
  const groups = new Command('groups')
    .summary('list and describe consumer groups, reset their offsets')
    .addHelpText('after', EXAMPLES);
  const sub = (name: string, summary: string): Command =>
    groups
      .command(name)
      .summary(summary)
      .description(`${summary[0].toUpperCase()}${summary.slice(1)}.`)
      .addHelpText('after', EXAMPLES);

  sub('list', 'groups with state, members and total lag').action(async (flags: ClusterFlags) => {
    const list = await withCluster(flags, async (ops) => ops.groupsWithLag(await ops.listGroups()));
    if (flags.json) return printJson(list);
    printTable(
      ['GROUP', 'STATE', 'PROTOCOL-TYPE', 'MEMBERS', 'LAG'],
      list.map((g) => [g.groupId, g.state, g.protocolType, g.members, g.lag]),
    );
  });

  sub('describe', 'members and lag per partition (log end - committed)')
    .argument('<GROUP>')
    .action(async (id: string, flags: ClusterFlags) => {
      const group = await withCluster(flags, (ops) => ops.describeGroup(id));
      if (flags.json) return printJson(group);
      console.log(
        `Group ${group.groupId} is ${group.state} with ${group.members.length} member(s); protocol ${group.protocol || '-'}; total lag ${group.totalLag}.`,
      );
      const members = new Map(group.members.map((m) => [m.memberId, m]));
      printTable(
        ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
        group.offsets.map((o) => {
          const m = o.memberId === null ? undefined : members.get(o.memberId);
          return [
            o.topic,
            o.partition,
            o.committedOffset,
            o.logEndOffset,
            o.lag,
            o.memberId,
            m?.clientHost ?? null,
            m?.clientId ?? null,
          ];
        }),
      );
    });

  const target = (flags: string, description: string): Option =>
    new Option(flags, description).helpGroup('Target (one of):');
  const scope = (flags: string, description: string): Option =>
    new Option(flags, description).helpGroup('Scope (one of):');
  sub(
    'reset-offsets',
    'move committed offsets; without --execute only shows what would change (as kafka-consumer-groups does)',
  )
    .argument('<GROUP>', 'a group without active members')
    .addOption(target('--to-earliest', 'the log start'))
    .addOption(target('--to-latest', 'the log end'))
    .addOption(
      target(
        '--to-datetime <WHEN>',
        'the first offset at or after 2024-05-01T12:00:00Z (or epoch ms)',
      ).argParser(datetime),
    )
    .addOption(target('--to-offset <N>', 'this offset').argParser(integer('--to-offset', 0)))
    .addOption(
      target(
        '--from-checkpoints <SOURCE>',
        "where the group's last checkpoint from a mirror flow out of cluster SOURCE says it resumes here (MirrorMaker 2's SOURCE.checkpoints.internal in this cluster): after failing over; scope defaults to the partitions checkpointed",
      ),
    )
    .addOption(
      scope('--topic <TOPIC[:P,P...]>', 'a topic, or some of its partitions; repeatable').argParser(many()),
    )
    .addOption(scope('--all-topics', 'every partition the group committed'))
    .option('--execute', 'apply the reset')
    .option('--dry-run', 'only show what would change (the default)')
    .action(async (id: string, flags: ResetFlags) => {
      const to = resetTarget(flags);
      const partitions = resetScope(flags);
      if (flags.execute && flags.dryRun) throw new UsageError('give --execute or --dry-run, not both');
      const dryRun = flags.execute !== true;
      const result = await withCluster(flags, (ops) => ops.resetGroupOffsets(id, to, partitions, dryRun));
      if (flags.json) return printJson(result);
      printTable(
        ['TOPIC', 'PARTITION', 'PREVIOUS-OFFSET', 'NEW-OFFSET'],
        result.offsets.map((o) => [o.topic, o.partition, o.previousOffset, o.newOffset]),
      );
      console.log(
        dryRun ? 'Dry run: nothing changed (add --execute to apply).' : `Reset the offsets of ${id}.`,
      );
    });

  sub('delete', 'delete a group without members, with its offsets')
    .argument('<GROUP>')
    .action(async (id: string, flags: ClusterFlags) => {
      await withCluster(flags, (ops) => ops.deleteGroup(id));
      if (flags.json) return printJson({ deleted: id });
      console.log(`Deleted group ${id}.`);
    });

  // After each command's own options, so its help lists them first.
  for (const command of groups.commands) withClusterOptions(command);
  return groups;
}
