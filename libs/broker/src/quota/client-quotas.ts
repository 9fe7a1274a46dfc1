import type { BrokerLogger } from '../broker-context';
import { ClientQuotaManager } from './client-quota-manager';
import { parseEntityPath, type QuotaAlteration, type QuotaEntity, type QuotaValues } from './quota-entity';
import type { QuotaState, QuotaStore } from './quota-store';
import type { QuotaWindow } from './rate';

/** How often idle sensors are looked for. */
const EXPIRY_SWEEP_MS = 60_000;

/**
 * A broker's client quotas: the configured entities (from the store, re-read when another
 * broker changes them) and one manager per quota key, each measuring this broker's traffic.
 */
export class ClientQuotas {
  /** producer_byte_rate: Produce and MirrorProduce request sizes. */
  readonly produce: ClientQuotaManager;
  /** consumer_byte_rate: consumers' Fetch response sizes. */
  readonly fetch: ClientQuotaManager;
  /** request_percentage: the share of the event loop's time spent on a client's requests. */
  readonly request: ClientQuotaManager;
  /** controller_mutation_rate: partitions created or deleted per second. */
  readonly controllerMutation: ClientQuotaManager;
  private state: QuotaState = new Map();
  private reading: Promise<void> = Promise.resolve();
  private readAgain = false;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    window: QuotaWindow,
    private readonly store: QuotaStore,
    private readonly logger: BrokerLogger,
  ) {
    this.produce = new ClientQuotaManager('producer_byte_rate', window);
    this.fetch = new ClientQuotaManager('consumer_byte_rate', window);
    this.request = new ClientQuotaManager('request_percentage', window);
    this.controllerMutation = new ClientQuotaManager('controller_mutation_rate', window);
  }

  private get managers(): ClientQuotaManager[] {
    return [this.produce, this.fetch, this.request, this.controllerMutation];
  }

  /** Loads the stored quotas (before any listener accepts a client) and follows changes. */
  async start(): Promise<void> {
    this.apply(await this.store.read());
    // refresh never rejects: a failed read is logged and the last quotas kept.
    this.store.watch(() => void this.refresh());
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const m of this.managers) m.expireSensors(now);
    }, EXPIRY_SWEEP_MS);
    this.sweeper.unref();
  }

  close(): void {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  /** Reads the store again; concurrent calls share one read and one more. */
  refresh(): Promise<void> {
    if (this.readAgain) return this.reading;
    this.readAgain = true;
    this.reading = this.reading.then(async () => {
      this.readAgain = false;
      try {
        this.apply(await this.store.read());
      } catch (err) {
        this.logger.warn(`reading client quotas failed, keeping the last ones: ${(err as Error).message}`);
      }
    });
    return this.reading;
  }

  private apply(state: QuotaState): void {
    this.state = state;
    for (const m of this.managers) m.update(state);
  }

  /** Every entity with quotas. */
  entities(): { entity: QuotaEntity; values: QuotaValues }[] {
    return [...this.state].map(([path, values]) => ({ entity: parseEntityPath(path), values }));
  }

  async alter(alterations: readonly QuotaAlteration[]): Promise<void> {
    if (alterations.length === 0) return;
    await this.store.alter(alterations);
    this.apply(await this.store.read());
  }
}
