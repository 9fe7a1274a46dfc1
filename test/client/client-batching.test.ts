import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin, Producer } from '@tributary/client';
import { readStoredBatches } from '../chaos/segments';
import { startBroker } from '../support/broker-process';
import { freePort } from '../support/redis-process';

/** A proxy in front of a broker that hands every answer back `delayMs` late, in order: a slow leader. */
async function slowProxy(port: number, target: number, delayMs: number): Promise<net.Server> {
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: target });
    client.on('data', (d: Buffer) => upstream.write(d));
    upstream.on('data', (d: Buffer) => setTimeout(() => client.write(d), delayMs));
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return server;
}

test(
  'records sent while the leader is slow to answer leave in a few full batches, not one per linger.ms',
  { timeout: 120_000 },
  async () => {
    const proxyPort = await freePort();
    const broker = await startBroker({
      extraArgs: ['--set', `advertised.listeners=PLAINTEXT://127.0.0.1:${proxyPort}`],
    });
    const proxy = await slowProxy(proxyPort, broker.port, 200);
    const bootstrap = `127.0.0.1:${proxyPort}`;
    const admin = new Admin({ bootstrapServers: bootstrap });
    try {
      await admin.createTopics([{ name: 'backlog', numPartitions: 1 }]);
      const producer = new Producer({
        bootstrapServers: bootstrap,
        lingerMs: 5,
        maxInFlightRequestsPerConnection: 1,
      });
      await producer.send({ topic: 'backlog', messages: [{ value: 'first' }] });
      // An application's pace: a record every 10 ms, two linger periods apart, for about a second.
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < 100; i++) {
        sends.push(producer.send({ topic: 'backlog', messages: [{ value: `r${i}` }] }));
        await sleep(10);
      }
      await Promise.all(sends);
      await producer.close();
      const batches = readStoredBatches(broker.dataDir, 'backlog', 0);
      assert.equal(batches[batches.length - 1].lastOffset, 100, 'every record stored');
      // Answers take 200 ms: about one batch per answer, where one per record came before.
      assert.ok(batches.length <= 20, `${batches.length} batches for 101 records`);
    } finally {
      await admin.close();
      await new Promise((resolve) => proxy.close(resolve));
      assert.equal(await broker.stop(), 0);
    }
  },
);
