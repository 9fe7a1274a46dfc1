import { entityKey, type BrokerConfigStore, type StoredBrokerConfigs } from '@tributary/broker';
import type { ClusterStore } from './redis/cluster-store';

/** How long a broker starting up waits for Redis to read its dynamic configs. */
const READ_TIMEOUT_MS = 30_000;

/**
 * A replicated cluster's dynamic broker configs, in Redis so that every broker sees the
 * cluster-wide default and its own: each change is one Lua compare-and-set that also
 * announces it, and every broker reads them again on the announcement and at each
 * reconciliation. A Redis that lost its data is not believed (the last configs stay), and
 * the broker that restores the cluster's state writes them back.
 */
export class RedisBrokerConfigStore implements BrokerConfigStore {
  private readonly listeners: (() => void)[] = [];
  private seenMarker: string | null = null;
  private last: Record<string, string> | null = null;

  constructor(private readonly store: ClusterStore) {}

  async read(entity: string): Promise<StoredBrokerConfigs> {
    await this.store.connect(Date.now() + READ_TIMEOUT_MS);
    const { marker, fields } = await this.store.readBrokerConfigs();
    if (marker === null && this.seenMarker !== null)
      throw new Error(
        "Redis has lost the cluster's state; the last dynamic broker configs stay until it is restored",
      );
    if (marker !== null) this.seenMarker = marker;
    this.last = fields;
    const key = entityKey(entity);
    const json = fields[key];
    return {
      configs: json === undefined ? {} : (JSON.parse(json) as Record<string, string>),
      version: Number(fields[`${key}:version`] ?? 0),
    };
  }

  async write(
    entity: string,
    expectedVersion: number,
    configs: Readonly<Record<string, string>>,
  ): Promise<void> {
    await this.store.alterBrokerConfigs(entityKey(entity), expectedVersion, configs);
  }

  /** What was last read, for writing back into a Redis that lost it. */
  lastView(): Readonly<Record<string, string>> | null {
    return this.last;
  }

  watch(onChange: () => void): void {
    this.listeners.push(onChange);
  }

  /** Something may have changed (an announcement, a reconciliation, a reconnect). */
  changed(): void {
    for (const l of this.listeners) l();
  }
}
