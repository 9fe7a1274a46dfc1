import crypto from 'node:crypto';
import {
  aclFilterMatches,
  newScramCredential,
  type AclBinding,
  type AclBindingFilter,
  type ScramCredential,
  type ScramMechanism,
} from '@tributary/protocol';
import type { BrokerLogger } from '../broker-context';
import type { SecurityConfig } from '../config/security-config';
import { AclAuthorizer } from './acl-authorizer';
import {
  credentialKey,
  encodeAcl,
  type SecurityState,
  type SecurityStore,
  type StoredCredential,
} from './security-store';

/** Failures from one address within this window make the next answer wait longer, up to 64 times the delay. */
const FAILURE_WINDOW_MS = 60_000;
const MAX_DOUBLINGS = 6;

/**
 * A broker's security state: the ACLs (through the authorizer), the SCRAM credentials and
 * the PLAIN users, kept in memory for the hot path and in the store for durability (and, in
 * a cluster, agreement). A change made elsewhere is read again when the store says so.
 */
export class SecurityManager {
  readonly authorizer: AclAuthorizer;
  private credentials = new Map<string, ScramCredential>();
  private aclSignature = '';
  private reading: Promise<void> = Promise.resolve();
  private readAgain = false;
  private readonly saltSecret = crypto.randomBytes(32);
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    readonly config: SecurityConfig,
    private readonly store: SecurityStore,
    private readonly logger: BrokerLogger,
  ) {
    this.authorizer = new AclAuthorizer({
      enabled: config.authorizerEnabled,
      superUsers: config.superUsers,
      allowEveryoneIfNoAclFound: config.allowEveryoneIfNoAclFound,
    });
  }

  /** Loads the stored state and creates the bootstrap SCRAM users that have no credential yet. */
  async start(): Promise<void> {
    this.apply(await this.store.read());
    const missing = this.config.scramBootstrap.filter(
      (b) => !this.credentials.has(credentialKey(b.name, b.mechanism)),
    );
    if (missing.length > 0) {
      const upserts = await Promise.all(
        missing.map(async (b) => ({
          user: b.name,
          mechanism: b.mechanism,
          credential: await newScramCredential(b.mechanism, b.password, b.iterations),
        })),
      );
      await this.store.alterCredentials(upserts, []);
      this.apply(await this.store.read());
      this.logger.log(
        `created SCRAM credentials from sasl.scram.bootstrap.users: ${missing.map((b) => `${b.name} (${b.mechanism})`).join(', ')}`,
      );
    }
    // refresh never rejects: a failed read is logged and the last state kept.
    this.store.watch(() => void this.refresh());
  }

  /** Reads the store again (after a change elsewhere); concurrent calls share one read and one more. */
  refresh(): Promise<void> {
    if (this.readAgain) return this.reading;
    this.readAgain = true;
    this.reading = this.reading.then(async () => {
      this.readAgain = false;
      try {
        this.apply(await this.store.read());
      } catch (err) {
        this.logger.warn(
          `reading ACLs and SCRAM credentials failed, keeping the last ones: ${(err as Error).message}`,
        );
      }
    });
    return this.reading;
  }

  private apply(state: SecurityState): void {
    const signature = state.acls.map(encodeAcl).sort().join('\n');
    if (signature !== this.aclSignature) {
      this.aclSignature = signature;
      this.authorizer.setAcls(state.acls);
    }
    this.credentials = new Map(
      state.credentials.map((c) => [credentialKey(c.user, c.mechanism), c.credential]),
    );
  }

  // ---- authentication ----------------------------------------------------------------------

  scramCredential(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return this.credentials.get(credentialKey(user, mechanism));
  }

  /** A salt for a user with no credential, the same at every attempt, so probing does not reveal who exists. */
  fakeSalt(user: string): Buffer {
    return crypto.createHmac('sha256', this.saltSecret).update(user).digest();
  }

  /** PLAIN: the user's password from sasl.jaas.config, compared in constant time. */
  checkPlain(user: string, password: string): boolean {
    const expected = this.config.jaas.plainUsers.get(user);
    const digest = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest();
    const ok = crypto.timingSafeEqual(digest(expected ?? `\u0000${password}`), digest(password));
    return ok && expected !== undefined;
  }

  /** A successful login from an address forgets its failures. */
  authenticationSucceeded(host: string): void {
    this.failures.delete(host);
  }

  /**
   * How long to hold a failed authentication's answer: connection.failed.authentication.delay.ms,
   * doubled for each further failure from the same address within a minute (until a login
   * from it succeeds), up to 64 times that.
   */
  failureDelay(host: string): number {
    const now = Date.now();
    let f = this.failures.get(host);
    if (f === undefined || now - f.since > FAILURE_WINDOW_MS) {
      if (this.failures.size > 10_000) this.failures.clear();
      f = { count: 0, since: now };
      this.failures.set(host, f);
    }
    f.count++;
    return this.config.failedAuthenticationDelayMs * 2 ** Math.min(f.count - 1, MAX_DOUBLINGS);
  }

  // ---- SCRAM credentials -----------------------------------------------------------------------

  /** Users with their mechanisms and iterations (never salts or keys). */
  describeCredentials(): Map<string, { mechanism: ScramMechanism; iterations: number }[]> {
    const out = new Map<string, { mechanism: ScramMechanism; iterations: number }[]>();
    for (const [k, c] of this.credentials) {
      const colon = k.indexOf(':');
      const user = k.slice(colon + 1);
      let list = out.get(user);
      if (list === undefined) out.set(user, (list = []));
      list.push({ mechanism: k.slice(0, colon) as ScramMechanism, iterations: c.iterations });
    }
    return out;
  }

  async alterCredentials(
    upserts: readonly StoredCredential[],
    deletions: readonly { user: string; mechanism: ScramMechanism }[],
  ): Promise<void> {
    if (upserts.length === 0 && deletions.length === 0) return;
    await this.store.alterCredentials(upserts, deletions);
    await this.reread();
  }

  // ---- ACLs --------------------------------------------------------------------------------------

  describeAcls(filter: AclBindingFilter): AclBinding[] {
    return this.authorizer.acls().filter((acl) => aclFilterMatches(filter, acl));
  }

  async createAcls(bindings: readonly AclBinding[]): Promise<void> {
    if (bindings.length === 0) return;
    await this.store.alterAcls(bindings, []);
    await this.reread();
  }

  /** Deletes what each filter matches; the matches per filter, in order. */
  async deleteAcls(filters: readonly AclBindingFilter[]): Promise<AclBinding[][]> {
    const current = this.authorizer.acls();
    const matched = filters.map((f) => current.filter((acl) => aclFilterMatches(f, acl)));
    const unique = new Map(matched.flat().map((a) => [encodeAcl(a), a]));
    if (unique.size > 0) {
      await this.store.alterAcls([], [...unique.values()]);
      await this.reread();
    }
    return matched;
  }

  private async reread(): Promise<void> {
    this.apply(await this.store.read());
  }
}
