import { PRODUCER_ID_BLOCK_SIZE, type ProducerIdManager } from '@tributary/broker';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import type { ClusterStore } from './redis/cluster-store';

/**
 * A cluster's producer ids: blocks of 1000 reserved with one INCRBY on the cluster's counter
 * in Redis (Kafka's /latest_producer_id_block), so no two brokers ever hand out the same id.
 */
export class RedisProducerIdManager implements ProducerIdManager {
  private next = 0;
  private end = -1;
  private reserving: Promise<void> | null = null;

  constructor(
    private readonly store: ClusterStore,
    /** Added to every id handed out (producerIdBase of the cluster); Redis counts from 0. */
    private readonly idBase = 0,
    private readonly blockSize = PRODUCER_ID_BLOCK_SIZE,
  ) {}

  /** The next id after every block this broker reserved (the least a restored counter must be). */
  get reservedEnd(): number {
    return this.end + 1;
  }

  async generateProducerId(): Promise<number> {
    while (this.next > this.end) {
      this.reserving ??= this.reserve().finally(() => {
        this.reserving = null;
      });
      await this.reserving;
    }
    return this.idBase + this.next++;
  }

  private async reserve(): Promise<void> {
    try {
      const last = await this.store.reserveProducerIds(this.blockSize);
      this.next = last - this.blockSize + 1;
      this.end = last;
    } catch (err) {
      throw new KafkaProtocolError(
        ErrorCode.COORDINATOR_NOT_AVAILABLE,
        `cannot reserve producer ids: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
}
