import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Admin, Producer } from '@tributary/client';
import { runAsync, startBroker } from '../support/broker-process';
import { CuttingProxy } from '../support/cutting-proxy';
import { freePort } from '../support/redis-process';

test(
  'our idempotent producer, its connection cut mid-request several times, writes every record exactly once',
  { timeout: 120_000 },
  async () => {
    const proxyPort = await freePort();
    const broker = await startBroker({
      extraArgs: ['--set', `advertised.listeners=PLAINTEXT://127.0.0.1:${proxyPort}`],
    });
    const proxy = new CuttingProxy({ host: '127.0.0.1', port: broker.port });
    await proxy.listen(proxyPort);
    const bootstrap = `127.0.0.1:${proxyPort}`;
    const admin = new Admin({ bootstrapServers: bootstrap });
    try {
      await admin.createTopics([{ name: 'exactly-once', numPartitions: 2 }]);
      const producer = new Producer({
        bootstrapServers: bootstrap,
        lingerMs: 1,
        batchSize: 1024,
        retryBackoffMs: 50,
      });
      // Cut the connection after every 3rd Produce request, 5 times, while 20 sends are in flight.
      proxy.arm(0, 5, 3);
      const sends = Array.from({ length: 20 }, (_, s) =>
        producer.send({
          topic: 'exactly-once',
          messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 7}`, value: `s${s}-r${i}` })),
        }),
      );
      const results = (await Promise.all(sends)).flat();
      await producer.close();
      assert.equal(proxy.cuts.length, 5, 'the proxy cut five connections with a produce request in flight');
      assert.equal(results.length, 1000);

      const r = await runAsync('kcat', [
        '-b',
        broker.bootstrap,
        '-t',
        'exactly-once',
        '-C',
        '-o',
        'beginning',
        '-e',
        '-f',
        '%p %o %s\\n',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const rows = r.stdout
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => l.split(' '));
      assert.equal(rows.length, 1000, 'no record written twice, none lost');
      assert.equal(new Set(rows.map((row) => row[2])).size, 1000);
      // Every acknowledged offset holds the record it was acknowledged for.
      const stored = new Map(rows.map(([p, o, v]) => [`${p}/${o}`, v]));
      for (const [s, m] of results.entries()) {
        assert.equal(stored.get(`${m.partition}/${m.offset}`), `s${Math.floor(s / 50)}-r${s % 50}`);
      }
    } finally {
      await admin.close();
      await proxy.close();
      assert.equal(await broker.stop(), 0);
    }
  },
);
