import type { Session } from '../security/session';
import { entityPath, type QuotaKey } from './quota-entity';
import type { QuotaState } from './quota-store';
import { Rate, TokenBucket, type QuotaWindow } from './rate';

/** Sensors unused this long are dropped (Kafka's InactiveSensorExpirationTimeSeconds). */
export const INACTIVE_SENSOR_EXPIRATION_MS = 3_600_000;

/**
 * Who shares one quota: Kafka's metric tags (user, client-id), "" where the quota does not
 * distinguish. Clients sharing tags share one measurement.
 */
interface Sensor {
  readonly user: string;
  readonly clientId: string;
  limit: number;
  readonly rate: Rate;
  readonly bucket: TokenBucket;
  lastUsedMs: number;
  expired: boolean;
}

interface Cached {
  version: number;
  clientId: string;
  sensor: Sensor | null;
}

/** The user a quota names: the principal's name (User:alice -> alice), ANONYMOUS without authentication. */
export function quotaUser(session: Session): string {
  const p = session.principal;
  const colon = p.indexOf(':');
  return colon < 0 ? p : p.slice(colon + 1);
}

/**
 * Kafka's ClientQuotaManager for one quota key, with Kafka's DefaultQuotaCallback: the most
 * specific entity that has the key decides who shares the quota, in this order:
 *
 *   users/<user>/clients/<client-id>      (user, client-id)
 *   users/<user>/clients/<default>        (user, client-id)
 *   users/<user>                          (user)
 *   users/<default>/clients/<client-id>   (user, client-id)
 *   users/<default>/clients/<default>     (user, client-id)
 *   users/<default>                       (user)
 *   clients/<client-id>                   (client-id)
 *   clients/<default>                     (client-id)
 *
 * so a default applies to each user or client-id apart, never to all of them together.
 * Each broker measures its own traffic (quotas are per broker, as in Kafka). Hot path: when
 * no entity has the key, `enabled` is false and callers record nothing; otherwise a
 * connection's sensor is cached until the quotas change or its client id does.
 */
export class ClientQuotaManager {
  /** Whether any entity has this key: nothing is measured otherwise. */
  enabled = false;
  private overrides = new Map<string, number>();
  private readonly sensors = new Map<string, Sensor>();
  private readonly cache = new WeakMap<Session, Cached>();
  private version = 0;

  constructor(
    readonly key: QuotaKey,
    readonly window: QuotaWindow,
  ) {}

  /** Takes the quotas of this key from the state (the sensors keep their measurements). */
  update(state: QuotaState): void {
    const overrides = new Map<string, number>();
    for (const [path, values] of state) {
      const v = values[this.key];
      if (v !== undefined) overrides.set(path, v);
    }
    this.overrides = overrides;
    this.enabled = overrides.size > 0;
    this.version++;
    for (const [k, s] of this.sensors) {
      const limit = this.limit(s.user, s.clientId);
      if (limit !== null) {
        s.limit = limit;
        continue;
      }
      s.expired = true;
      this.sensors.delete(k);
    }
  }

  /**
   * Records `value` against the quota of the connection's principal and this client id;
   * answers the throttle time in ms (0 within the quota): how long until the measured rate
   * is back at the quota, as Kafka computes it (excess / quota x window).
   */
  recordAndGetThrottleTimeMs(session: Session, clientId: string, value: number, nowMs: number): number {
    const sensor = this.sensorFor(session, clientId, nowMs);
    if (sensor === null) return 0;
    sensor.rate.record(value, nowMs);
    const rate = sensor.rate.measure(nowMs);
    if (rate <= sensor.limit) return 0;
    return Math.round(((rate - sensor.limit) / sensor.limit) * sensor.rate.windowSizeMs(nowMs));
  }

  /** Takes back a recorded value (a throttled fetch returns nothing, so its bytes do not count). */
  unrecord(session: Session, clientId: string, value: number, nowMs: number): void {
    this.sensorFor(session, clientId, nowMs)?.rate.record(-value, nowMs);
  }

  /** The most one response may carry: the quota over the window (Kafka's getMaxValueInQuotaWindow). */
  maxValueInQuotaWindow(session: Session, clientId: string, nowMs: number): number {
    const sensor = this.sensorFor(session, clientId, nowMs);
    if (sensor === null) return Infinity;
    return (sensor.limit * (this.window.samples - 1) * this.window.windowMs) / 1000;
  }

  /**
   * Controller mutations (KIP-599) against the token bucket. Strict (the request versions
   * that can carry THROTTLING_QUOTA_EXCEEDED): refused while the bucket is empty, and the
   * throttle time says when it refills. Permissive (older versions): always taken, throttled after.
   */
  mutationQuota(session: Session, clientId: string, strict: boolean): ControllerMutationQuota {
    let throttleTimeMs = 0;
    const sensorAt = (now: number): Sensor | null => this.sensorFor(session, clientId, now);
    return {
      get throttleTimeMs() {
        return throttleTimeMs;
      },
      record(permits: number): boolean {
        const now = Date.now();
        const sensor = sensorAt(now);
        if (sensor === null) return true;
        if (strict) {
          const tokens = sensor.bucket.measure(sensor.limit, now);
          if (tokens < 0) {
            throttleTimeMs = Math.round((-tokens / sensor.limit) * 1000);
            return false;
          }
          sensor.bucket.record(sensor.limit, permits, now);
          return true;
        }
        sensor.bucket.record(sensor.limit, permits, now);
        const tokens = sensor.bucket.measure(sensor.limit, now);
        if (tokens < 0) throttleTimeMs = Math.round((-tokens / sensor.limit) * 1000);
        return true;
      },
    };
  }

  /** Drops sensors unused for an hour. */
  expireSensors(nowMs: number): void {
    for (const [k, s] of this.sensors) {
      if (nowMs - s.lastUsedMs < INACTIVE_SENSOR_EXPIRATION_MS) continue;
      s.expired = true;
      this.sensors.delete(k);
    }
  }

  private sensorFor(session: Session, clientId: string, nowMs: number): Sensor | null {
    let cached = this.cache.get(session);
    if (cached === undefined || cached.version !== this.version || cached.clientId !== clientId) {
      cached = { version: this.version, clientId, sensor: this.resolve(quotaUser(session), clientId) };
      this.cache.set(session, cached);
    }
    // An expired sensor comes back with a fresh measurement.
    if (cached.sensor?.expired === true) cached.sensor = this.resolve(quotaUser(session), clientId);
    if (cached.sensor !== null) cached.sensor.lastUsedMs = nowMs;
    return cached.sensor;
  }

  private resolve(user: string, clientId: string): Sensor | null {
    const [tagUser, tagClient] = this.metricTags(user, clientId);
    const limit = this.limit(tagUser, tagClient);
    if (limit === null) return null;
    const k = `${tagUser}\u0000${tagClient}`;
    let sensor = this.sensors.get(k);
    if (sensor === undefined) {
      sensor = {
        user: tagUser,
        clientId: tagClient,
        limit,
        rate: new Rate(this.window),
        bucket: new TokenBucket(this.window),
        lastUsedMs: 0,
        expired: false,
      };
      this.sensors.set(k, sensor);
    }
    return sensor;
  }

  private has(user: string | null | undefined, clientId: string | null | undefined): boolean {
    return this.overrides.has(
      entityPath({
        ...(user === undefined ? {} : { user }),
        ...(clientId === undefined ? {} : { clientId }),
      }),
    );
  }

  private get(user: string | null | undefined, clientId: string | null | undefined): number | undefined {
    return this.overrides.get(
      entityPath({
        ...(user === undefined ? {} : { user }),
        ...(clientId === undefined ? {} : { clientId }),
      }),
    );
  }

  /** Kafka's DefaultQuotaCallback.quotaMetricTags: who shares the quota that applies. */
  private metricTags(user: string, clientId: string): [string, string] {
    if (this.has(user, clientId) || this.has(user, null)) return [user, clientId];
    if (this.has(user, undefined)) return [user, ''];
    if (this.has(null, clientId) || this.has(null, null)) return [user, clientId];
    if (this.has(null, undefined)) return [user, ''];
    if (this.has(undefined, clientId) || this.has(undefined, null)) return ['', clientId];
    return ['', ''];
  }

  /** Kafka's DefaultQuotaCallback.quotaLimit: the quota of those tags, null for none. */
  private limit(user: string, clientId: string): number | null {
    let v: number | undefined;
    if (user !== '' && clientId !== '')
      v =
        this.get(user, clientId) ?? this.get(user, null) ?? this.get(null, clientId) ?? this.get(null, null);
    else if (user !== '') v = this.get(user, undefined) ?? this.get(null, undefined);
    else if (clientId !== '') v = this.get(undefined, clientId) ?? this.get(undefined, null);
    return v ?? null;
  }
}

/** One request's controller mutation quota (Kafka's Strict/PermissiveControllerMutationQuota). */
export interface ControllerMutationQuota {
  /** Takes `permits` (partitions created or deleted); false when a strict quota refuses them. */
  record(permits: number): boolean;
  /** The throttle time to answer with (0 within the quota). */
  readonly throttleTimeMs: number;
}

/** A request with no quota to mind (followers, or no controller_mutation_rate anywhere). */
export const UNLIMITED_MUTATIONS: ControllerMutationQuota = {
  record: () => true,
  throttleTimeMs: 0,
};
