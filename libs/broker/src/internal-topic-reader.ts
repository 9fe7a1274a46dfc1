import { BATCH, BatchHeader } from '@tributary/protocol';
import type { PartitionLog } from '@tributary/storage';

/**
 * Visits every batch of a log from its start to its end, `chunkBytes` at a time: how the
 * coordinators load an internal topic's partition (__consumer_offsets, __transaction_state)
 * when they take it over. `visit` gets the header and the bytes holding the batch.
 */
export function visitBatches(
  log: PartitionLog,
  chunkBytes: number,
  visit: (header: BatchHeader, records: Buffer, at: number) => void,
): void {
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records } = log.read(offset, chunkBytes, { minOneBatch: true });
    const before = offset;
    let at = 0;
    while (records.length - at >= BATCH.HEADER_SIZE) {
      const header = new BatchHeader(records, at);
      if (at + header.sizeInBytes > records.length) break;
      offset = header.lastOffset + 1;
      visit(header, records, at);
      at += header.sizeInBytes;
    }
    if (offset === before) break;
  }
}
