import type { ApiDefinition } from '../schema';
import { ApiVersions } from './api-versions';
import { Produce } from './produce';
import { Metadata } from './metadata';
import { Fetch } from './fetch';
import { ListOffsets } from './list-offsets';
import { CreateTopics } from './create-topics';
import { DeleteTopics } from './delete-topics';
import { CreatePartitions } from './create-partitions';
import { DescribeConfigs } from './describe-configs';
import { AlterConfigs } from './alter-configs';
import { IncrementalAlterConfigs } from './incremental-alter-configs';
import { DescribeCluster } from './describe-cluster';
import { DeleteRecords } from './delete-records';
import { SaslHandshake } from './sasl-handshake';
import { SaslAuthenticate } from './sasl-authenticate';
import { FindCoordinator } from './find-coordinator';
import { JoinGroup } from './join-group';
import { SyncGroup } from './sync-group';
import { Heartbeat } from './heartbeat';
import { LeaveGroup } from './leave-group';
import { OffsetCommit } from './offset-commit';
import { OffsetFetch } from './offset-fetch';
import { ListGroups } from './list-groups';
import { DescribeGroups } from './describe-groups';
import { DeleteGroups } from './delete-groups';
import { OffsetDelete } from './offset-delete';
import { InitProducerId } from './init-producer-id';
import { OffsetForLeaderEpoch } from './offset-for-leader-epoch';
import { AlterPartitionReassignments } from './alter-partition-reassignments';
import { ListPartitionReassignments } from './list-partition-reassignments';
import { ElectLeaders } from './elect-leaders';
import { DescribeLogDirs } from './describe-log-dirs';
import { AlterReplicaLogDirs } from './alter-replica-log-dirs';
import { DescribeProducers } from './describe-producers';
import { UpdateFeatures } from './update-features';
import { CreateAcls } from './create-acls';
import { DescribeAcls } from './describe-acls';
import { DeleteAcls } from './delete-acls';
import { DescribeUserScramCredentials } from './describe-user-scram-credentials';
import { AlterUserScramCredentials } from './alter-user-scram-credentials';
import { DescribeClientQuotas } from './describe-client-quotas';
import { AlterClientQuotas } from './alter-client-quotas';
import { MirrorProduce } from './mirror-produce';
import { AddPartitionsToTxn } from './add-partitions-to-txn';
import { AddOffsetsToTxn } from './add-offsets-to-txn';
import { EndTxn } from './end-txn';
import { WriteTxnMarkers } from './write-txn-markers';
import { TxnOffsetCommit } from './txn-offset-commit';
import { DescribeTransactions } from './describe-transactions';
import { ListTransactions } from './list-transactions';

export { ApiVersions, Produce, MirrorProduce };
// group coordination, transactions bootstrap, reassignment, log dirs, producers, features, ACLs, SCRAM and client quotas
export {
  FindCoordinator,
  JoinGroup,
  SyncGroup,
  Heartbeat,
  LeaveGroup,
  OffsetCommit,
  OffsetFetch,
  ListGroups,
  DescribeGroups,
  DeleteGroups,
  OffsetDelete,
  InitProducerId,
  OffsetForLeaderEpoch,
  AlterPartitionReassignments,
  ListPartitionReassignments,
  ElectLeaders,
  DescribeLogDirs,
  AlterReplicaLogDirs,
  DescribeProducers,
  UpdateFeatures,
  CreateAcls,
  DescribeAcls,
  DeleteAcls,
  DescribeUserScramCredentials,
  AlterUserScramCredentials,
  DescribeClientQuotas,
  AlterClientQuotas,
};
// transactions
export {
  AddPartitionsToTxn,
  AddOffsetsToTxn,
  EndTxn,
  WriteTxnMarkers,
  TxnOffsetCommit,
  DescribeTransactions,
  ListTransactions,
};
export {
  Metadata,
  Fetch,
  ListOffsets,
  CreateTopics,
  DeleteTopics,
  CreatePartitions,
  DescribeConfigs,
  AlterConfigs,
  IncrementalAlterConfigs,
  DescribeCluster,
  DeleteRecords,
  SaslHandshake,
  SaslAuthenticate,
};

/** Every API this project implements, by key. ApiVersions advertises exactly these. */
export const ALL_APIS: readonly ApiDefinition[] = [
  ApiVersions,
  Produce,
  Metadata,
  Fetch,
  ListOffsets,
  CreateTopics,
  DeleteTopics,
  CreatePartitions,
  DescribeConfigs,
  AlterConfigs,
  IncrementalAlterConfigs,
  DescribeCluster,
  DeleteRecords,
  SaslHandshake,
  SaslAuthenticate,
  FindCoordinator,
  JoinGroup,
  SyncGroup,
  Heartbeat,
  LeaveGroup,
  OffsetCommit,
  OffsetFetch,
  ListGroups,
  DescribeGroups,
  DeleteGroups,
  OffsetDelete,
  InitProducerId,
  OffsetForLeaderEpoch,
  AlterPartitionReassignments,
  ListPartitionReassignments,
  ElectLeaders,
  DescribeLogDirs,
  AlterReplicaLogDirs,
  DescribeProducers,
  UpdateFeatures,
  CreateAcls,
  DescribeAcls,
  DeleteAcls,
  DescribeUserScramCredentials,
  AlterUserScramCredentials,
  DescribeClientQuotas,
  AlterClientQuotas,
  AddPartitionsToTxn,
  AddOffsetsToTxn,
  EndTxn,
  WriteTxnMarkers,
  TxnOffsetCommit,
  DescribeTransactions,
  ListTransactions,
  MirrorProduce,
];

const BY_KEY = new Map<number, ApiDefinition>(ALL_APIS.map((api) => [api.apiKey, api]));

export function apiByKey(apiKey: number): ApiDefinition | undefined {
  return BY_KEY.get(apiKey);
}
