/**
 * Every Redis key of a cluster, as its parts after the cluster's prefix
 * (`tributary:{<cluster id>}:`; the hash tag keeps a cluster on one Redis Cluster shard).
 * docs/architecture.md lists the same keys; a test holds the two together.
 */
export const CLUSTER_KEYS = {
  /** string: marker of the cluster's state (a random id); missing = Redis lost it */
  cluster: () => ['cluster'],
  /** set: ids of the brokers that registered */
  brokers: () => ['brokers'],
  /** hash: a broker's registration (host, port, rack, incarnation, shutting_down, offline_log_dirs), expiring with its session */
  broker: (id: number | string) => ['broker', id],
  /** string: "<broker>:<epoch>" of the controller, expiring with its lease */
  controller: () => ['controller'],
  /** int: INCR per new controller, never goes back */
  controllerEpoch: () => ['controller-epoch'],
  /** hash: broker -> the incarnation the controllers last saw */
  controllerIncarnations: () => ['controller', 'incarnations'],
  /** hash: topic name -> topic id */
  topics: () => ['topics'],
  /** hash: a topic's id, partitions, configs (JSON), config_version */
  topic: (name: string) => ['topic', name],
  /** hash: partition -> state JSON (leader, leader_epoch, partition_epoch, replicas, isr, adding, removing) */
  partitions: (topic: string) => ['topic', topic, 'partitions'],
  /** hash: topic id -> name of deleted topics (brokers that missed a deletion drop the logs) */
  deletedTopics: () => ['deleted-topics'],
  /** int: end of the last block of producer ids handed out (INCRBY) */
  producerIds: () => ['producer-ids'],
  /** set: ACL bindings (canonical JSON) */
  acls: () => ['acls'],
  /** hash: "<mechanism>:<user>" -> salt, StoredKey, ServerKey, iterations */
  scramCredentials: () => ['scram-credentials'],
  /** hash: <broker id>|<default> -> dynamic configs (JSON), and "<entity>:version" */
  brokerConfigs: () => ['broker-configs'],
  /** hash: entity path (users/<u>/clients/<c>) -> JSON of its quotas */
  clientQuotas: () => ['client-quotas'],
  /** int: compare-and-set version of the quotas */
  clientQuotasVersion: () => ['client-quotas', 'version'],
  /** pub/sub channel: change notifications ("brokers", "controller", "topic <t>", ...) */
  changes: () => ['changes'],
  /** int: INCR before a WAIT that confirms a read (redis.wait.replicas) */
  barrier: () => ['barrier'],
} as const;

export type ClusterKeyParts = readonly (string | number)[];
