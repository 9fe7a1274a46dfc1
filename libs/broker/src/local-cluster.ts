import type { BrokerConfig, Listener } from './config/broker-config';
import type { BrokerNode, ClusterView, PartitionLeadership } from './broker-context';
import type { Connection } from './network/connection';

/**
 * The cluster of one broker with no coordination configured: it is the controller and
 * the leader of every partition, with leader epoch 0.
 */
export class LocalCluster implements ClusterView {
  constructor(
    private readonly config: BrokerConfig,
    readonly clusterId: string,
  ) {}

  get controllerId(): number {
    return this.config.nodeId;
  }

  brokers(connection: Connection): BrokerNode[] {
    return [
      { nodeId: this.config.nodeId, ...advertisedAddress(this.config, connection), rack: this.config.rack },
    ];
  }

  leadership(): PartitionLeadership {
    const self = this.config.nodeId;
    return { leaderId: self, leaderEpoch: 0, replicas: [self], isr: [self], offlineReplicas: [] };
  }
}

/**
 * The address a client should use: the advertised listener, or else the address the
 * client reached us on (so a broker bound to 0.0.0.0 still advertises something reachable).
 */
export function advertisedAddress(
  config: BrokerConfig,
  connection: Connection,
): { host: string; port: number } {
  const listeners: readonly Listener[] = config.advertisedListeners ?? config.listeners;
  const match = listeners.find((l) => l.port === connection.localPort) ?? listeners[0];
  const unspecified = match.host === '' || match.host === '0.0.0.0' || match.host === '::';
  return {
    host:
      unspecified || config.advertisedListeners === null
        ? connection.localAddress.replace(/^::ffff:/, '')
        : match.host,
    port: config.advertisedListeners === null ? connection.localPort : match.port,
  };
}
