import { Consumer, Producer } from '@tributary/client';

/**
 * The benchmark's driver for our own client, run as its own process like kcat:
 *   client-worker.js produce BOOTSTRAP TOPIC COUNT SIZE
 *   client-worker.js consume BOOTSTRAP TOPIC COUNT PARTITIONS
 * Prints the seconds from the first record to the last acknowledgement (or the last record read).
 */
async function produce(bootstrap: string, topic: string, count: number, size: number): Promise<number> {
  const producer = new Producer({
    bootstrapServers: bootstrap,
    acks: 1,
    idempotent: false,
    lingerMs: 5,
    batchSize: 1 << 20,
  });
  const value = Buffer.alloc(size, 'x');
  await producer.send({ topic, messages: [{ value }] });
  const perSend = 1000;
  const started = performance.now();
  let issued = 1;
  let done = 1;
  let inflight = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (inflight < 32 && issued < count) {
        const n = Math.min(perSend, count - issued);
        issued += n;
        inflight++;
        const now = Date.now();
        const messages = new Array(n);
        for (let i = 0; i < n; i++) messages[i] = { value, timestamp: now };
        producer.send({ topic, messages }).then(() => {
          inflight--;
          done += n;
          if (done >= count) resolve();
          else pump();
        }, reject);
      }
    };
    pump();
  });
  const seconds = (performance.now() - started) / 1000;
  await producer.close();
  return seconds;
}

async function consume(bootstrap: string, topic: string, count: number, partitions: number): Promise<number> {
  const consumer = new Consumer({
    bootstrapServers: bootstrap,
    autoOffsetReset: 'earliest',
    maxPartitionFetchBytes: 4 << 20,
  });
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  let read = 0;
  const started = performance.now();
  await consumer.run({
    eachBatch: async (batch) => {
      read += batch.messages.length;
      if (read >= count) void consumer.stop();
    },
  });
  const seconds = (performance.now() - started) / 1000;
  await consumer.close();
  return seconds;
}

async function main(): Promise<void> {
  const [mode, bootstrap, topic, countArg, extra] = process.argv.slice(2);
  const count = Number(countArg);
  const seconds =
    mode === 'produce'
      ? await produce(bootstrap, topic, count, Number(extra))
      : await consume(bootstrap, topic, count, Number(extra));
  process.stdout.write(`${seconds}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
