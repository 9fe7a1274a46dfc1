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

/**
 * Where a cluster's producer ids start: a range of 2^32 ids of its own, chosen by its cluster
 * id (FNV-1a), above the small ids Kafka hands out. A mirror topic keeps the source cluster's
 * batches, producer ids included, so once it is promoted its local producers must not get an
 * id its mirrored batches carry; ids from different clusters never meet (but for a one in a
 * million clash of cluster ids). The highest id stays below 2^53, a safe integer.
 */
export function producerIdBase(clusterId: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(clusterId, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return ((hash % 0xfffff) + 1) * 2 ** 32;
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
    /** Added to every id handed out (producerIdBase of the cluster); the file counts from 0. */
    private readonly idBase = 0,
    private readonly blockSize = PRODUCER_ID_BLOCK_SIZE,
  ) {
    this.file = path.join(dataDir, PRODUCER_ID_BLOCK_FILE);
  }

  generateProducerId(): Promise<number> {
    try {
      if (this.next > this.end) this.reserveBlock();
      return Promise.resolve(this.idBase + this.next++);
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
