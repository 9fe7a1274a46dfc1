import { ErrorCode, KafkaProtocolError } from '@tributary/protocol';

export interface BrokerPlacement {
  readonly id: number;
  readonly rack: string | null;
}

export interface AssignmentOptions {
  /** Where the first partition's leader falls in the broker list; random by default, as in Kafka. */
  readonly startIndex?: number;
  /** How far the second replica is shifted from the leader; random by default. */
  readonly replicaShift?: number;
  /** The first partition id to place (CreatePartitions continues a topic's spread). */
  readonly startPartition?: number;
}

function replicaIndex(first: number, shift: number, j: number, n: number): number {
  return (first + 1 + ((shift + j) % (n - 1))) % n;
}

/**
 * Brokers alternating over the racks (racks and brokers in order), so consecutive entries
 * sit in different racks: Kafka's getRackAlternatedBrokerList.
 */
export function rackAlternatedBrokers(brokers: readonly BrokerPlacement[]): number[] {
  const byRack = new Map<string, number[]>();
  for (const b of [...brokers].sort((x, y) => x.id - y.id)) {
    const rack = b.rack as string;
    const list = byRack.get(rack) ?? [];
    list.push(b.id);
    byRack.set(rack, list);
  }
  const racks = [...byRack.keys()].sort();
  const out: number[] = [];
  for (let i = 0; out.length < brokers.length; i = (i + 1) % racks.length) {
    const next = byRack.get(racks[i])!.shift();
    if (next !== undefined) out.push(next);
  }
  return out;
}

/**
 * Kafka's replica assignment (AdminUtils.assignReplicasToBrokers): leaders spread round-robin
 * from a random start, followers at a shift that grows each time the partitions wrap around
 * the brokers. When every broker has a broker.rack, the brokers alternate over racks and a
 * partition's replicas go to as many different racks as there are, then to as many different
 * brokers. The first replica of each partition is its preferred leader.
 */
export function assignReplicas(
  brokers: readonly BrokerPlacement[],
  numPartitions: number,
  replicationFactor: number,
  options: AssignmentOptions = {},
): number[][] {
  const n = brokers.length;
  if (replicationFactor < 1) {
    throw new KafkaProtocolError(
      ErrorCode.INVALID_REPLICATION_FACTOR,
      'Replication factor must be larger than 0.',
    );
  }
  if (replicationFactor > n) {
    throw new KafkaProtocolError(
      ErrorCode.INVALID_REPLICATION_FACTOR,
      `Replication factor: ${replicationFactor} larger than available brokers: ${n}.`,
    );
  }
  const startIndex = options.startIndex ?? Math.floor(Math.random() * n);
  let shift = options.replicaShift ?? Math.floor(Math.random() * n);
  let partitionId = Math.max(0, options.startPartition ?? 0);
  const rackAware = brokers.every((b) => b.rack !== null);
  const arranged = rackAware
    ? rackAlternatedBrokers(brokers)
    : [...brokers].map((b) => b.id).sort((a, b) => a - b);
  const rackOf = new Map(brokers.map((b) => [b.id, b.rack]));
  const numRacks = new Set(brokers.map((b) => b.rack)).size;
  const out: number[][] = [];
  for (let i = 0; i < numPartitions; i++, partitionId++) {
    if (partitionId > 0 && partitionId % n === 0) shift++;
    const first = (partitionId + startIndex) % n;
    const replicas = [arranged[first]];
    if (!rackAware) {
      for (let j = 0; j < replicationFactor - 1; j++)
        replicas.push(arranged[replicaIndex(first, shift, j, n)]);
    } else {
      const racks = new Set([rackOf.get(arranged[first])]);
      const used = new Set(replicas);
      let k = 0;
      while (replicas.length < replicationFactor) {
        const broker = arranged[replicaIndex(first, shift * numRacks, k++, n)];
        const rack = rackOf.get(broker);
        if ((!racks.has(rack) || racks.size === numRacks) && (!used.has(broker) || used.size === n)) {
          replicas.push(broker);
          racks.add(rack);
          used.add(broker);
        }
      }
    }
    out.push(replicas);
  }
  return out;
}
