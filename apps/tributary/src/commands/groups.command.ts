import type { ResetTarget } from '@tributary/console';
import { single, UsageError, type ParsedArgs } from '../args';
import {
  CLUSTER_OPTIONS,
  checkFlags,
  positional,
  printJson,
  printTable,
  wantsJson,
  withCluster,
} from './cli-support';

export const GROUPS_USAGE = `tributary groups <list|describe|reset-offsets|delete> [options]

  list                                      groups with state, members and total lag
  describe GROUP                            members and lag per partition (log end - committed)
  reset-offsets GROUP TARGET SCOPE [--execute]
      TARGET: --to-earliest | --to-latest | --to-datetime 2024-05-01T12:00:00Z | --to-offset N
      SCOPE:  --topic TOPIC[:P,P...] (repeatable) | --all-topics (every partition the group committed)
      Without --execute only shows what would change (as kafka-consumer-groups does).
      The group must have no active members.
  delete GROUP                              a group without members, with its offsets

${CLUSTER_OPTIONS}

Examples:
  npx tributary groups describe billing --bootstrap-server 127.0.0.1:9092
  npx tributary groups reset-offsets billing --to-earliest --topic orders --execute --bootstrap-server 127.0.0.1:9092`;

function resetTarget(args: ParsedArgs): ResetTarget {
  const targets: ResetTarget[] = [];
  if (args.flags.has('to-earliest')) targets.push({ to: 'earliest' });
  if (args.flags.has('to-latest')) targets.push({ to: 'latest' });
  const datetime = single(args, 'to-datetime');
  if (datetime !== undefined) {
    const ms = /^\d+$/.test(datetime) ? Number(datetime) : Date.parse(datetime);
    if (Number.isNaN(ms))
      throw new UsageError(`--to-datetime ${datetime}: expected ISO-8601 (2024-05-01T12:00:00Z) or epoch ms`);
    targets.push({ to: 'timestamp', timestamp: ms });
  }
  const offset = single(args, 'to-offset');
  if (offset !== undefined) {
    if (!/^\d+$/.test(offset)) throw new UsageError(`--to-offset must be an integer >= 0, got ${offset}`);
    targets.push({ to: 'offset', offset: Number(offset) });
  }
  if (targets.length !== 1)
    throw new UsageError('give exactly one of --to-earliest, --to-latest, --to-datetime, --to-offset');
  return targets[0];
}

/** --topic orders or --topic orders:0,2 (repeatable); undefined with --all-topics. */
function resetScope(args: ParsedArgs): { topic: string; partitions?: number[] }[] | undefined {
  const topics = args.flags.get('topic') ?? [];
  const all = args.flags.has('all-topics');
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

export async function runGroups(args: ParsedArgs): Promise<void> {
  const sub = args.positional[0];
  const json = wantsJson(args);
  switch (sub) {
    case 'list': {
      checkFlags(args, []);
      const groups = await withCluster(args, async (ops) => ops.groupsWithLag(await ops.listGroups()));
      if (json) return printJson(groups);
      return printTable(
        ['GROUP', 'STATE', 'PROTOCOL-TYPE', 'MEMBERS', 'LAG'],
        groups.map((g) => [g.groupId, g.state, g.protocolType, g.members, g.lag]),
      );
    }
    case 'describe': {
      checkFlags(args, []);
      const id = positional(args, 1, 'GROUP', GROUPS_USAGE);
      const group = await withCluster(args, (ops) => ops.describeGroup(id));
      if (json) return printJson(group);
      console.log(
        `Group ${group.groupId} is ${group.state} with ${group.members.length} member(s); protocol ${group.protocol || '-'}; total lag ${group.totalLag}.`,
      );
      const members = new Map(group.members.map((m) => [m.memberId, m]));
      return printTable(
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
    }
    case 'reset-offsets': {
      checkFlags(args, [
        'to-earliest',
        'to-latest',
        'to-datetime',
        'to-offset',
        'topic',
        'all-topics',
        'execute',
        'dry-run',
      ]);
      const id = positional(args, 1, 'GROUP', GROUPS_USAGE);
      const target = resetTarget(args);
      const scope = resetScope(args);
      if (args.flags.has('execute') && args.flags.has('dry-run'))
        throw new UsageError('give --execute or --dry-run, not both');
      const dryRun = !args.flags.has('execute');
      const result = await withCluster(args, (ops) => ops.resetGroupOffsets(id, target, scope, dryRun));
      if (json) return printJson(result);
      printTable(
        ['TOPIC', 'PARTITION', 'PREVIOUS-OFFSET', 'NEW-OFFSET'],
        result.offsets.map((o) => [o.topic, o.partition, o.previousOffset, o.newOffset]),
      );
      console.log(
        dryRun ? 'Dry run: nothing changed (add --execute to apply).' : `Reset the offsets of ${id}.`,
      );
      return;
    }
    case 'delete': {
      checkFlags(args, []);
      const id = positional(args, 1, 'GROUP', GROUPS_USAGE);
      await withCluster(args, (ops) => ops.deleteGroup(id));
      if (json) return printJson({ deleted: id });
      console.log(`Deleted group ${id}.`);
      return;
    }
    default:
      throw new UsageError(
        sub === undefined ? GROUPS_USAGE : `unknown groups command "${sub}"\n\n${GROUPS_USAGE}`,
      );
  }
}
