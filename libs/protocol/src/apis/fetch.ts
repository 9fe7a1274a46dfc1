import { defineApi } from '../schema';

/**
 * Fetch (key 1). From v4 only (record batches v2). Records are stored bytes passed through as
 * is; v12 is flexible, with clusterId tagged in the request and divergingEpoch, currentLeader
 * and snapshotId tagged in each partition of the response.
 */
export const Fetch = defineApi({
  apiKey: 1,
  name: 'Fetch',
  versions: '4-12',
  flexibleVersions: '12+',
  request: {
    clusterId: {
      type: 'string',
      versions: '12+',
      nullable: '12+',
      tag: 0,
      taggedVersions: '12+',
      default: null,
    },
    replicaId: { type: 'int32', versions: '0-14', default: -1 },
    maxWaitMs: 'int32',
    minBytes: 'int32',
    maxBytes: { type: 'int32', versions: '3+', default: 0x7fffffff },
    isolationLevel: { type: 'int8', versions: '4+' },
    sessionId: { type: 'int32', versions: '7+', default: 0 },
    sessionEpoch: { type: 'int32', versions: '7+', default: -1 },
    topics: {
      type: 'struct[]',
      fields: {
        topic: { type: 'string', versions: '0-12' },
        partitions: {
          type: 'struct[]',
          fields: {
            partition: 'int32',
            currentLeaderEpoch: { type: 'int32', versions: '9+', default: -1 },
            fetchOffset: 'int64',
            lastFetchedEpoch: { type: 'int32', versions: '12+', default: -1 },
            logStartOffset: { type: 'int64', versions: '5+', default: -1 },
            partitionMaxBytes: 'int32',
          },
        },
      },
    },
    forgottenTopicsData: {
      type: 'struct[]',
      versions: '7+',
      fields: {
        topic: { type: 'string', versions: '7-12' },
        partitions: 'int32[]',
      },
    },
    rackId: { type: 'string', versions: '11+', default: '' },
  },
  response: {
    throttleTimeMs: { type: 'int32', versions: '1+' },
    errorCode: { type: 'int16', versions: '7+' },
    sessionId: { type: 'int32', versions: '7+', default: 0 },
    responses: {
      type: 'struct[]',
      fields: {
        topic: { type: 'string', versions: '0-12' },
        partitions: {
          type: 'struct[]',
          fields: {
            partitionIndex: 'int32',
            errorCode: 'int16',
            highWatermark: 'int64',
            lastStableOffset: { type: 'int64', versions: '4+', default: -1 },
            logStartOffset: { type: 'int64', versions: '5+', default: -1 },
            divergingEpoch: {
              type: 'struct',
              versions: '12+',
              tag: 0,
              taggedVersions: '12+',
              fields: {
                epoch: { type: 'int32', default: -1 },
                endOffset: { type: 'int64', default: -1 },
              },
            },
            currentLeader: {
              type: 'struct',
              versions: '12+',
              tag: 1,
              taggedVersions: '12+',
              fields: {
                leaderId: { type: 'int32', default: -1 },
                leaderEpoch: { type: 'int32', default: -1 },
              },
            },
            snapshotId: {
              type: 'struct',
              versions: '12+',
              tag: 2,
              taggedVersions: '12+',
              fields: {
                endOffset: { type: 'int64', default: -1 },
                epoch: { type: 'int32', default: -1 },
              },
            },
            abortedTransactions: {
              type: 'struct[]',
              versions: '4+',
              nullable: '4+',
              fields: { producerId: 'int64', firstOffset: 'int64' },
            },
            preferredReadReplica: { type: 'int32', versions: '11+', default: -1 },
            records: { type: 'records', nullable: '0+' },
          },
        },
      },
    },
  },
});
