import {
  credentialKey,
  decodeAcl,
  decodeCredential,
  encodeAcl,
  encodeCredential,
  type SecurityState,
  type SecurityStore,
  type StoredCredential,
} from '@tributary/broker';
import type { AclBinding, ScramMechanism } from '@tributary/protocol';
import type { ClusterStore } from './redis/cluster-store';

/** How long a broker starting up waits for Redis to read the ACLs and credentials. */
const READ_TIMEOUT_MS = 30_000;

/**
 * A replicated cluster's ACLs and SCRAM credentials, in Redis so every broker agrees: each
 * change is one Lua script that also announces it, and every broker reads the whole state
 * again on the announcement and at each reconciliation. A Redis that lost its data (no
 * state marker after one was seen) is not believed: the brokers keep what they knew, and the
 * broker that restores the cluster's state writes it back.
 */
export class RedisSecurityStore implements SecurityStore {
  private readonly listeners: (() => void)[] = [];
  private seenMarker: string | null = null;
  private last: { acls: string[]; credentials: Record<string, string> } | null = null;

  constructor(private readonly store: ClusterStore) {}

  async read(): Promise<SecurityState> {
    await this.store.connect(Date.now() + READ_TIMEOUT_MS);
    const r = await this.store.readSecurity();
    if (r.marker === null && this.seenMarker !== null)
      throw new Error(
        "Redis has lost the cluster's state; the last ACLs and credentials stay until it is restored",
      );
    if (r.marker !== null) this.seenMarker = r.marker;
    this.last = { acls: r.acls, credentials: r.credentials };
    return {
      acls: r.acls.map(decodeAcl),
      credentials: Object.entries(r.credentials).map(([k, v]) => {
        const colon = k.indexOf(':');
        return {
          mechanism: k.slice(0, colon) as ScramMechanism,
          user: k.slice(colon + 1),
          credential: decodeCredential(v),
        };
      }),
    };
  }

  /** What was last read, for writing back into a Redis that lost it. */
  lastView(): { acls: readonly string[]; credentials: Readonly<Record<string, string>> } | null {
    return this.last;
  }

  async alterAcls(add: readonly AclBinding[], remove: readonly AclBinding[]): Promise<void> {
    await this.store.alterAcls(add.map(encodeAcl), remove.map(encodeAcl));
  }

  async alterCredentials(
    upserts: readonly StoredCredential[],
    deletions: readonly { user: string; mechanism: ScramMechanism }[],
  ): Promise<void> {
    await this.store.alterCredentials(
      new Map(upserts.map((u) => [credentialKey(u.user, u.mechanism), encodeCredential(u.credential)])),
      deletions.map((d) => credentialKey(d.user, d.mechanism)),
    );
  }

  watch(onChange: () => void): void {
    this.listeners.push(onChange);
  }

  /** Something may have changed (an announcement, a reconciliation, a reconnect). */
  changed(): void {
    for (const l of this.listeners) l();
  }
}
