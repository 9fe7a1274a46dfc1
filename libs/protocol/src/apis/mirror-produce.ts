import { defineApi } from '../schema';

/**
 * MirrorProduce (Tributary's own key, 10000, outside Kafka's range): the replicator writes
 * record batches into a mirror topic keeping the source's offsets. Each partition's batches
 * must continue from the topic's log end (a gap is allowed, as after source retention);
 * batches wholly below the log end were written before (a replicator that restarted) and are
 * skipped, so a retry never duplicates. Only topics marked with `tributary.mirror.of` accept
 * it; normal producers are refused there.
 */
export const MirrorProduce = defineApi({
  apiKey: 10000,
  name: 'MirrorProduce',
  versions: '0',
  flexibleVersions: '0+',
  request: {
    /** The flow writing, for messages and fencing of a topic's single writer. */
    flow: 'string',
    timeoutMs: 'int32',
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitions: {
          type: 'struct[]',
          fields: {
            index: 'int32',
            /** Where the replicator believes the log ends (the offset it fetched the source from); -1: unchecked. */
            expectedLogEndOffset: 'int64',
            records: { type: 'records', nullable: '0+' },
          },
        },
      },
    },
  },
  response: {
    throttleTimeMs: 'int32',
    topics: {
      type: 'struct[]',
      fields: {
        name: 'string',
        partitions: {
          type: 'struct[]',
          fields: {
            index: 'int32',
            errorCode: 'int16',
            errorMessage: { type: 'string', nullable: '0+', default: null },
            /** The log end after the append: where the next batch must start. */
            logEndOffset: 'int64',
          },
        },
      },
    },
  },
});
