import { Admin, Consumer, Producer } from '@tributary/client';

/**
 * The demo's sample traffic: keyed order records into a topic on each given cluster at a
 * steady rate, and a consumer group on the first cluster that commits as it goes (so its
 * offsets are checkpointed downstream and a failover can be tried).
 */
export class SampleTraffic {
  private readonly producers: { alias: string; producer: Producer }[] = [];
  private consumer: Consumer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private sequence = 0;

  constructor(
    private readonly clusters: readonly { alias: string; bootstrap: string }[],
    private readonly topic: string,
    private readonly recordsPerSecond: number,
    private readonly group: string | null,
  ) {}

  /** Creates the topic with 3 partitions on each cluster (unless it exists), then starts. */
  async start(): Promise<void> {
    for (const c of this.clusters) {
      const admin = new Admin({ bootstrapServers: c.bootstrap });
      await admin.createTopics([{ name: this.topic, numPartitions: 3 }]).catch(() => undefined);
      await admin.close();
    }
    for (const c of this.clusters)
      this.producers.push({ alias: c.alias, producer: new Producer({ bootstrapServers: c.bootstrap }) });
    const perTick = Math.max(1, Math.round(this.recordsPerSecond / 10));
    this.timer = setInterval(() => {
      for (const { alias, producer } of this.producers) {
        const messages = Array.from({ length: perTick }, () => {
          const n = this.sequence++;
          return {
            key: `customer-${n % 50}`,
            value: JSON.stringify({
              order: n,
              cluster: alias,
              amount: (n * 7) % 100,
              at: new Date().toISOString(),
            }),
            headers: { source: alias },
          };
        });
        producer.send({ topic: this.topic, messages }).catch(() => undefined);
      }
    }, 100);
    if (this.group !== null && this.clusters.length > 0) {
      const consumer = new Consumer({
        bootstrapServers: this.clusters[0].bootstrap,
        groupId: this.group,
        autoOffsetReset: 'earliest',
        autoCommitIntervalMs: 1000,
      });
      consumer.subscribe([this.topic]);
      void consumer.run({ eachMessage: () => undefined }).catch(() => undefined);
      this.consumer = consumer;
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.consumer?.close().catch(() => undefined);
    for (const p of this.producers) await p.producer.close().catch(() => undefined);
  }
}
