import {
  applyAlterations,
  entityPath,
  parseStoredValues,
  type QuotaAlteration,
  type QuotaState,
  type QuotaStore,
} from '@tributary/broker';
import type { ClusterStore } from './redis/cluster-store';
import { ScriptError, ScriptRefusal } from './redis/scripts';

/** How long a broker starting up waits for Redis to read the quotas. */
const READ_TIMEOUT_MS = 30_000;
/** Alterations racing on the same version retry this often before giving up. */
const MAX_ATTEMPTS = 10;

/**
 * A replicated cluster's client quotas, in Redis so every broker enforces the same ones: a
 * change is computed from what was read and written by a Lua compare-and-set on the quotas'
 * version, which also announces it; every broker reads them again on the announcement and at
 * each reconciliation. A Redis that lost its data is not believed (the last quotas stay), and
 * the broker that restores the cluster's state writes them back.
 */
export class RedisQuotaStore implements QuotaStore {
  private readonly listeners: (() => void)[] = [];
  private seenMarker: string | null = null;
  private last: Record<string, string> | null = null;

  constructor(private readonly store: ClusterStore) {}

  async read(): Promise<QuotaState> {
    return (await this.readVersioned()).state;
  }

  private async readVersioned(): Promise<{ version: number; state: QuotaState }> {
    await this.store.connect(Date.now() + READ_TIMEOUT_MS);
    const r = await this.store.readClientQuotas();
    if (r.marker === null && this.seenMarker !== null)
      throw new Error("Redis has lost the cluster's state; the last client quotas stay until it is restored");
    if (r.marker !== null) this.seenMarker = r.marker;
    this.last = r.quotas;
    const state = new Map(
      Object.entries(r.quotas).map(([path, json]) => [
        path,
        parseStoredValues(`client quota ${path}`, JSON.parse(json) as unknown),
      ]),
    );
    return { version: r.version, state };
  }

  /** What was last read, for writing back into a Redis that lost it. */
  lastView(): Readonly<Record<string, string>> | null {
    return this.last;
  }

  async alter(alterations: readonly QuotaAlteration[]): Promise<void> {
    const paths = [...new Set(alterations.map((a) => entityPath(a.entity)))];
    for (let attempt = 1; ; attempt++) {
      const { version, state } = await this.readVersioned();
      const next = applyAlterations(state, alterations);
      const set = new Map<string, string>();
      const remove: string[] = [];
      for (const path of paths) {
        const values = next.get(path);
        if (values === undefined) remove.push(path);
        else set.set(path, JSON.stringify(values));
      }
      try {
        await this.store.alterClientQuotas(version, set, remove);
        return;
      } catch (err) {
        const raced = err instanceof ScriptRefusal && err.result === ScriptError.VersionMismatch;
        if (!raced || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  watch(onChange: () => void): void {
    this.listeners.push(onChange);
  }

  /** Something may have changed (an announcement, a reconciliation, a reconnect). */
  changed(): void {
    for (const l of this.listeners) l();
  }
}
