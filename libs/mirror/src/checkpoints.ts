import { Admin, Consumer, type ClientOptions } from '@tributary/client';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import { checkpointsTopic, decodeCheckpoint, type Checkpoint } from './mm2-formats';

/**
 * The newest checkpoint of every (group, topic, partition) a flow from `sourceAlias` wrote
 * into a cluster: MirrorMaker 2's `<source>.checkpoints.internal`, read to its end (a
 * compacted topic: the last record of a key wins). What RemoteClusterUtils.translateOffsets
 * reads, for applications that fail over to this cluster.
 */
export async function readCheckpoints(
  options: ClientOptions,
  sourceAlias: string,
  group?: string,
): Promise<Checkpoint[]> {
  const tp = { topic: checkpointsTopic(sourceAlias), partition: 0 };
  const admin = new Admin(options);
  let start: number;
  let end: number;
  try {
    [{ offset: start }] = await admin.listOffsets([tp], 'earliest');
    [{ offset: end }] = await admin.listOffsets([tp], 'latest');
  } catch (err) {
    if (err instanceof KafkaProtocolError && err.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return [];
    throw err;
  } finally {
    await admin.close();
  }
  const latest = new Map<string, Checkpoint>();
  if (end <= start) return [];
  const consumer = new Consumer({ ...options, autoOffsetReset: 'earliest', fetchMaxWaitMs: 50 });
  consumer.assign([tp]);
  consumer.seek({ ...tp, offset: start });
  // Batches of compacted gaps move the position without records: watch it, not only the records.
  const done = setInterval(() => {
    if (consumer.position(tp) >= end) void consumer.stop();
  }, 20);
  try {
    await consumer.run({
      eachBatch: (batch) => {
        for (const m of batch.messages) {
          if (m.key === null || m.value === null) continue;
          const c = decodeCheckpoint(m.key, m.value);
          if (group === undefined || c.group === group) latest.set(`${c.group}|${c.topic}|${c.partition}`, c);
        }
      },
    });
  } finally {
    clearInterval(done);
    await consumer.close();
  }
  return [...latest.values()].sort((a, b) =>
    a.group !== b.group
      ? a.group < b.group
        ? -1
        : 1
      : a.topic !== b.topic
        ? a.topic < b.topic
          ? -1
          : 1
        : a.partition - b.partition,
  );
}
