/**
 * Child process of the crash-recovery test: appends batches of varying size to the log in
 * argv[2] forever, printing "<lastOffset>\n" after each append returns. The test kills it
 * with SIGKILL at an arbitrary point and checks that every printed offset survived.
 */
import fs from 'node:fs';
import { simpleBatch } from './batch-fixtures';
import { PartitionLog } from '../src/partition-log';
import { TopicConfig } from '../src/topic-config';

const dir = process.argv[2];
const log = PartitionLog.open({
  dir,
  config: TopicConfig.resolve({ 'segment.bytes': String(16 * 1024 * 1024) }),
  logger: {
    log: () => {},
    warn: (m) => process.stderr.write(`${m}\n`),
    error: (m) => process.stderr.write(`${m}\n`),
  },
});
// Several megabytes per append, built once (append only rewrites offsets and epochs, outside
// the CRC), so most of the child's time is spent inside the write and the kill often tears it.
const sizes = [900_000, 64_000, 300_000, 100, 900_000, 4_000, 900_000, 900_000, 50];
const batches = Buffer.concat(sizes.map((valueBytes, i) => simpleBatch(1, { valueBytes: valueBytes + i })));
for (;;) {
  const { lastOffset } = log.append(batches, 0);
  // Synchronous, so the line is out before the next append starts.
  fs.writeSync(1, `${lastOffset}\n`);
}
