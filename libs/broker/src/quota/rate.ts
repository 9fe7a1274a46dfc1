/** How Kafka measures a quota: quota.window.num samples of quota.window.size.seconds each. */
export interface QuotaWindow {
  readonly samples: number;
  readonly windowMs: number;
}

interface Sample {
  value: number;
  startMs: number;
  lastEventMs: number;
}

/**
 * Kafka's Rate over a WindowedSum (org.apache.kafka.common.metrics.stats): values summed
 * into time samples, one more kept than configured so that a sample still overlapping the
 * window is not lost; samples without events for samples x window are reset. The rate is
 * the sum over the elapsed time since the oldest sample, and while fewer than samples - 1
 * whole windows have passed the missing ones count as empty: a new client may send a
 * window's worth (samples - 1 windows at the quota) at once, as with Kafka.
 */
export class Rate {
  private readonly samples: Sample[] = [];
  private current = 0;

  constructor(private readonly window: QuotaWindow) {}

  record(value: number, nowMs: number): void {
    let sample = this.currentSample(nowMs);
    if (nowMs - sample.startMs >= this.window.windowMs) sample = this.advance(nowMs);
    sample.value += value;
    sample.lastEventMs = nowMs;
  }

  /** Per second. */
  measure(nowMs: number): number {
    this.purge(nowMs);
    let total = 0;
    for (const s of this.samples) total += s.value;
    return total / (this.windowSizeMs(nowMs) / 1000);
  }

  /** The time the rate is taken over, at least samples - 1 windows (Kafka's Rate.windowSize). */
  windowSizeMs(nowMs: number): number {
    this.purge(nowMs);
    let oldest = this.currentSample(nowMs).startMs;
    for (const s of this.samples) if (s.startMs < oldest) oldest = s.startMs;
    let elapsed = nowMs - oldest;
    const full = Math.floor(elapsed / this.window.windowMs);
    const minFull = this.window.samples - 1;
    if (full < minFull) elapsed += (minFull - full) * this.window.windowMs;
    return Math.max(elapsed, 1);
  }

  /** When the last value was recorded (sensors idle for long are dropped). */
  get lastRecordMs(): number {
    return this.samples.length === 0 ? 0 : this.samples[this.current].lastEventMs;
  }

  private currentSample(nowMs: number): Sample {
    if (this.samples.length === 0) this.samples.push({ value: 0, startMs: nowMs, lastEventMs: nowMs });
    return this.samples[this.current];
  }

  private advance(nowMs: number): Sample {
    this.current = (this.current + 1) % (this.window.samples + 1);
    if (this.current >= this.samples.length) {
      const fresh = { value: 0, startMs: nowMs, lastEventMs: nowMs };
      this.samples.push(fresh);
      return fresh;
    }
    const reused = this.samples[this.current];
    reset(reused, nowMs);
    return reused;
  }

  private purge(nowMs: number): void {
    const expireAge = this.window.samples * this.window.windowMs;
    for (const s of this.samples) if (nowMs - s.lastEventMs >= expireAge) reset(s, nowMs);
  }
}

function reset(s: Sample, nowMs: number): void {
  s.value = 0;
  s.startMs = nowMs;
  s.lastEventMs = nowMs;
}

/**
 * Kafka's TokenBucket (KIP-599), for controller mutations: up to samples x window x quota
 * tokens, refilled at the quota per second; a mutation may take the bucket below zero, and
 * the next is refused until it is positive again.
 */
export class TokenBucket {
  private tokens = 0;
  private lastUpdateMs = 0;

  constructor(private readonly window: QuotaWindow) {}

  /** The tokens left (negative: owed). */
  measure(quota: number, nowMs: number): number {
    this.refill(quota, nowMs);
    return this.tokens;
  }

  record(quota: number, value: number, nowMs: number): void {
    this.refill(quota, nowMs);
    this.tokens = Math.min(this.burst(quota), this.tokens - value);
  }

  private burst(quota: number): number {
    return ((this.window.samples * this.window.windowMs) / 1000) * quota;
  }

  private refill(quota: number, nowMs: number): void {
    this.tokens = Math.min(this.burst(quota), this.tokens + (quota * (nowMs - this.lastUpdateMs)) / 1000);
    this.lastUpdateMs = nowMs;
  }
}
