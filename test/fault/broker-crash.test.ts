import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { PYTHON, PYTHON_DIR, ROOT, runAsync, startBroker, tempDir } from '../support/broker-process';

async function consumeAll(bootstrap: string, topic: string, partition: number): Promise<Map<number, string>> {
  const r = await runAsync('kcat', [
    '-b',
    bootstrap,
    '-t',
    topic,
    '-C',
    '-p',
    String(partition),
    '-o',
    'beginning',
    '-e',
    '-f',
    '%o %s\\n',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const out = new Map<number, string>();
  for (const line of r.stdout.split('\n')) {
    if (line.length === 0) continue;
    const [offset, value] = line.split(' ');
    out.set(Number(offset), value);
  }
  return out;
}

describe('a broker that crashes', () => {
  test('kill -9 during acks=all produce: every acknowledged record is there after restart', async () => {
    const dataDir = tempDir('crash');
    let broker = await startBroker({ dataDir, extraArgs: ['--set', 'num.partitions=2'] });
    const port = broker.port;
    const producer = spawn(PYTHON, [path.join(PYTHON_DIR, 'acked_producer.py'), broker.bootstrap, 'crash'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let acked = '';
    producer.stdout.on('data', (d: Buffer) => (acked += d.toString()));
    const ackLines = () => acked.split('\n').filter((l) => /^\d+ \d+ v\d+$/.test(l));
    const deadline = Date.now() + 30_000;
    while (ackLines().length < 5000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await broker.kill9();
    await new Promise((r) => setTimeout(r, 300));
    producer.kill('SIGKILL');
    await new Promise((r) => producer.once('exit', r));

    const acks = ackLines().map((l) => l.split(' '));
    assert.ok(acks.length >= 5000, `the producer was acknowledged ${acks.length} records before the crash`);

    broker = await startBroker({ dataDir, port });
    try {
      const logs = [
        await consumeAll(broker.bootstrap, 'crash', 0),
        await consumeAll(broker.bootstrap, 'crash', 1),
      ];
      for (const [partition, offset, value] of acks) {
        assert.equal(
          logs[Number(partition)].get(Number(offset)),
          value,
          `acknowledged ${value} at ${partition}/${offset}`,
        );
      }
      for (const log of logs) {
        const offsets = [...log.keys()];
        assert.deepEqual(
          offsets,
          offsets.map((_, i) => i),
          'offsets are dense after recovery',
        );
      }
    } finally {
      assert.equal(await broker.stop(), 0);
    }
  });

  test('a torn tail in the active segment is truncated at start-up and the rest is served', async () => {
    const dataDir = tempDir('torn');
    let broker = await startBroker({ dataDir });
    const lines = Array.from({ length: 100 }, (_, i) => `r${i}`).join('\n') + '\n';
    const produced = await runAsync(
      'kcat',
      [
        '-b',
        broker.bootstrap,
        '-t',
        'torn',
        '-P',
        '-p',
        '0',
        '-X',
        'linger.ms=0',
        '-X',
        'batch.num.messages=10',
      ],
      {
        input: lines,
      },
    );
    assert.equal(produced.status, 0, produced.stderr);
    await broker.kill9();

    const segment = path.join(dataDir, 'torn-0', '00000000000000000000.log');
    const intact = fs.statSync(segment).size;
    // Half a batch header and garbage, as a write cut by a power loss might leave.
    fs.appendFileSync(
      segment,
      Buffer.concat([Buffer.from('000000000000006400000040', 'hex'), Buffer.alloc(20, 0xab)]),
    );

    broker = await startBroker({ dataDir });
    try {
      assert.match(broker.output(), /torn-0/, 'recovery names the partition it repaired');
      assert.equal(fs.statSync(segment).size, intact, 'the torn bytes are cut off');
      const log = await consumeAll(broker.bootstrap, 'torn', 0);
      assert.equal(log.size, 100);
      assert.equal(log.get(99), 'r99');
      const more = await runAsync('kcat', ['-b', broker.bootstrap, '-t', 'torn', '-P', '-p', '0'], {
        input: 'after\n',
      });
      assert.equal(more.status, 0, more.stderr);
      assert.equal(
        (await consumeAll(broker.bootstrap, 'torn', 0)).get(100),
        'after',
        'appends continue after the cut',
      );
    } finally {
      assert.equal(await broker.stop(), 0);
    }
  });
});
