import path from 'node:path';
import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import { readFileIfExists, writeFileAtomicSync } from '@tributary/storage';

/**
 * Hands out producer ids for InitProducerId. An id must never be given twice in a cluster's
 * life, restarts included. Behind this interface so that a cluster can allocate from Redis
 * later, as Kafka moved its blocks from ZooKeeper to the controller.
 */
export interface ProducerIdManager {
  generateProducerId(): Promise<number>;
}

/** Kafka's block size: ids are reserved 1000 at a time, one durable write per block. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;
export const PRODUCER_ID_BLOCK_FILE = 'producer-id-block.json';

interface ProducerIdBlock {
  version: 1;
  broker: number;
  block_start: number;
  block_end: number;
}

/**
 * A lone broker's producer ids: blocks reserved in `producer-id-block.json` in the data dir
 * (Kafka's ZooKeeper node /latest_producer_id_block, in the same shape). The block is written
 * (and fsynced) before any of its ids is handed out, so after a restart allocation resumes
 * after the last reserved block: the rest of a block in use at a crash is skipped, never reused.
 */
export class LocalProducerIdManager implements ProducerIdManager {
  private next = 0;
  private end = -1;
  private readonly file: string;

  constructor(
    dataDir: string,
    private readonly nodeId: number,
    private readonly blockSize = PRODUCER_ID_BLOCK_SIZE,
  ) {
    this.file = path.join(dataDir, PRODUCER_ID_BLOCK_FILE);
  }

  generateProducerId(): Promise<number> {
    try {
      if (this.next > this.end) this.reserveBlock();
      return Promise.resolve(this.next++);
    } catch (err) {
      return Promise.reject(
        err instanceof KafkaProtocolError
          ? err
          : new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, `cannot reserve producer ids: ${err}`, {
              cause: err,
            }),
      );
    }
  }

  private reserveBlock(): void {
    const text = readFileIfExists(this.file);
    let start = 0;
    if (text !== null) {
      const last = JSON.parse(text) as ProducerIdBlock;
      if (!Number.isSafeInteger(last.block_end) || last.block_end < -1) {
        throw new KafkaProtocolError(ErrorCode.UNKNOWN_SERVER_ERROR, `${this.file} holds no valid block_end`);
      }
      start = last.block_end + 1;
    }
    const block: ProducerIdBlock = {
      version: 1,
      broker: this.nodeId,
      block_start: start,
      block_end: start + this.blockSize - 1,
    };
    writeFileAtomicSync(this.file, JSON.stringify(block) + '\n');
    this.next = block.block_start;
    this.end = block.block_end;
  }
}
