import { Admin, Cluster } from '@tributary/client';
import { clientOptionsOf, type ClusterConfig } from '../config/console-config';
import { OperationError } from './operation-error';
import { ClusterOperations } from './cluster-operations';

/**
 * One client per configured cluster, opened on first use and kept: a Cluster (metadata and
 * connections, asking for every topic so nothing is auto-created by a look-up) shared by an
 * Admin and by the short-lived consumers of the record viewer.
 */
export class ClusterConnections {
  private readonly open = new Map<string, ClusterOperations>();
  private readonly byAlias: Map<string, ClusterConfig>;

  constructor(readonly clusters: readonly ClusterConfig[]) {
    this.byAlias = new Map(clusters.map((c) => [c.alias, c]));
  }

  aliases(): string[] {
    return this.clusters.map((c) => c.alias);
  }

  config(alias: string): ClusterConfig {
    const c = this.byAlias.get(alias);
    if (c === undefined)
      throw new OperationError(
        'not-found',
        `cluster "${alias}" is not configured in this console (configured: ${this.aliases().join(', ')})`,
      );
    return c;
  }

  /** The operations on a configured cluster; 404 for an alias that is not configured. */
  get(alias: string): ClusterOperations {
    const config = this.config(alias);
    let ops = this.open.get(alias);
    if (ops === undefined) {
      const options = clientOptionsOf(config);
      const cluster = new Cluster(options);
      cluster.wantAllTopics();
      ops = new ClusterOperations(config, cluster, new Admin(options, cluster));
      this.open.set(alias, ops);
    }
    return ops;
  }

  async close(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((o) => o.close()));
  }
}
