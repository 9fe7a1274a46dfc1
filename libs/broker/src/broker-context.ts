import type { LogManager } from '@tributary/storage';
import type { BrokerMetrics } from './broker-metrics';
import type { BrokerConfig } from './config/broker-config';
import type { Connection } from './network/connection';
import type { FetchWaiters } from './replica/fetch-waiters';
import type { TopicService } from './topic-service';

export interface BrokerNode {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface PartitionLeadership {
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly offlineReplicas: readonly number[];
}

/** Who is in the cluster and who leads what. A lone broker leads every partition it has. */
export interface ClusterView {
  readonly clusterId: string;
  readonly controllerId: number;
  brokers(connection: Connection): BrokerNode[];
  leadership(topic: string, partition: number): PartitionLeadership;
}

export interface BrokerLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What request handlers share. */
export interface BrokerContext {
  readonly config: BrokerConfig;
  readonly logs: LogManager;
  readonly waiters: FetchWaiters;
  readonly cluster: ClusterView;
  readonly topics: TopicService;
  readonly logger: BrokerLogger;
  /** Present when the broker reports metrics; replication bumps isrShrinks and isrExpands here. */
  readonly metrics?: BrokerMetrics;
}
