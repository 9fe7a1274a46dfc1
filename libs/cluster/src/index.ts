export { replicatedMembership, ReplicatedCluster, registeredAddress } from './replicated-cluster';
export {
  ClusterStore,
  type BrokerRegistration,
  type TopicRecord,
  type ControllerLease,
} from './redis/cluster-store';
export { ClusterMetadata } from './cluster-metadata';
export { Controller } from './controller';
export { assignReplicas, rackAlternatedBrokers, type BrokerPlacement } from './assignment';
export {
  reconcilePartition,
  electPreferred,
  electUnclean,
  startReassignment,
  cancelReassignment,
  type BrokerLiveness,
} from './election';
