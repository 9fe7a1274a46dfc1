import { defineMessage } from '../schema';

/**
 * The consumer protocol ("consumer" protocolType): what a member sends in JoinGroup's
 * protocol metadata, and what the leader hands each member in SyncGroup. v1 adds the
 * partitions a member owns (cooperative rebalancing), v2 its generation, v3 its rack.
 */
export const ConsumerProtocolSubscription = defineMessage({
  name: 'ConsumerProtocolSubscription',
  versions: '0-3',
  flexibleVersions: 'none',
  fields: {
    topics: 'string[]',
    userData: { type: 'bytes', nullable: '0+', default: null },
    ownedPartitions: {
      type: 'struct[]',
      versions: '1+',
      fields: { topic: 'string', partitions: 'int32[]' },
    },
    generationId: { type: 'int32', versions: '2+', default: -1 },
    rackId: { type: 'string', versions: '3+', nullable: '3+', default: null },
  },
});

export const ConsumerProtocolAssignment = defineMessage({
  name: 'ConsumerProtocolAssignment',
  versions: '0-3',
  flexibleVersions: 'none',
  fields: {
    assignedPartitions: {
      type: 'struct[]',
      fields: { topic: 'string', partitions: 'int32[]' },
    },
    userData: { type: 'bytes', nullable: '0+', default: null },
  },
});
