/**
 * Chooses a record's partition. `key` is the serialized key; null for records without one.
 * Returns a partition in [0, partitionCount).
 */
export type Partitioner = (topic: string, key: Buffer | null, partitionCount: number) => number;

/** Kafka's murmur2 (Utils.murmur2 in the Java client), bit for bit: the same key, the same partition. */
export function murmur2(data: Buffer): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2] << 16;
  if (rest >= 2) h ^= data[tail + 1] << 8;
  if (rest >= 1) {
    h ^= data[tail];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The Java client's choice for a keyed record: toPositive(murmur2(key)) % partitions. */
export function murmur2Partition(key: Buffer, partitionCount: number): number {
  return (murmur2(key) & 0x7fffffff) % partitionCount;
}

/**
 * The default partitioner: keyed records by murmur2, records without a key stick to one
 * partition until its batch is sent (KIP-480), so they fill batches instead of spreading
 * one record per partition.
 */
export class DefaultPartitioner {
  private readonly sticky = new Map<string, number>();

  partition(topic: string, key: Buffer | null, partitionCount: number): number {
    if (key !== null) return murmur2Partition(key, partitionCount);
    let p = this.sticky.get(topic);
    if (p === undefined || p >= partitionCount) {
      p = Math.floor(Math.random() * partitionCount);
      this.sticky.set(topic, p);
    }
    return p;
  }

  /** A batch of the sticky partition was closed: move on to another partition. */
  onBatchClosed(topic: string, partition: number, partitionCount: number): void {
    if (this.sticky.get(topic) !== partition || partitionCount < 2) return;
    const next = Math.floor(Math.random() * (partitionCount - 1));
    this.sticky.set(topic, next >= partition ? next + 1 : next);
  }
}
