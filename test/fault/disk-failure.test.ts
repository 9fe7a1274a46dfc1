import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Connection } from '@tributary/client';
import { DescribeLogDirs, ErrorCode, Metadata } from '@tributary/protocol';
import { startBroker, type BrokerProcess } from '../support/broker-process';
import {
  ext4Volume,
  fillUp,
  missingAcks,
  mountTmpfs,
  readBack,
  startDiskProducer,
  type Ack,
  type SmallDisk,
} from '../support/disks';

/**
 * A lone broker whose log dir fills up (a real 8 MiB tmpfs) or turns read-only (an ext4 volume
 * that hits an error): produce answers KAFKA_STORAGE_ERROR, the broker stays up and says its dir
 * is offline, and after the disk is fixed and the broker restarted every acknowledged record is
 * there, with no torn or corrupt batch for recovery to cut.
 */

/** DescribeLogDirs and Metadata straight from the broker. */
async function brokerView(port: number, topic: string) {
  const conn = new Connection({ host: '127.0.0.1', port, requestTimeoutMs: 5000 });
  await conn.connect();
  try {
    const dirs = await conn.request(DescribeLogDirs, { topics: null });
    const metadata = await conn.request(Metadata, {
      topics: [{ name: topic }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    return { dirs: dirs.results, partitions: metadata.topics[0].partitions };
  } finally {
    conn.close();
  }
}

async function assertOfflineButAlive(broker: BrokerProcess, topic: string, dataDir: string): Promise<void> {
  assert.equal(broker.child.exitCode, null, `the broker is still running:\n${broker.output()}`);
  const view = await brokerView(broker.port, topic);
  assert.deepEqual(
    view.dirs.map((d) => [d.logDir, d.errorCode, d.topics.length]),
    [[path.resolve(dataDir), ErrorCode.KAFKA_STORAGE_ERROR, 0]],
    'DescribeLogDirs reports the dir offline',
  );
  for (const p of view.partitions) {
    assert.equal(p.errorCode, ErrorCode.LEADER_NOT_AVAILABLE);
    assert.equal(p.leaderId, -1);
    assert.deepEqual(p.offlineReplicas, [1]);
  }
}

/** After the restart: every acknowledged record where it was acknowledged, offsets dense, nothing cut by recovery. */
async function assertEverythingAcknowledgedIsThere(broker: BrokerProcess, topic: string, acks: Ack[]) {
  const stored = await readBack(broker.bootstrap, topic);
  const missing = missingAcks(stored, acks);
  assert.deepEqual(
    missing.slice(0, 5),
    [],
    `${missing.length} of ${acks.length} acknowledged records are missing`,
  );
  for (const p of new Set([...stored.keys()].map((k) => k.split('/')[0]))) {
    const offsets = [...stored.keys()]
      .filter((k) => k.startsWith(`${p}/`))
      .map((k) => Number(k.split('/')[1]));
    assert.deepEqual(
      offsets,
      offsets.map((_, i) => i),
      `partition ${p}'s offsets are dense`,
    );
  }
  assert.doesNotMatch(broker.output(), /recovery truncated|partial batch|fails its CRC/);
}

function summarize(errors: readonly { code: number; name: string }[]): string {
  const counts = new Map<string, number>();
  for (const e of errors) counts.set(`${e.name}(${e.code})`, (counts.get(`${e.name}(${e.code})`) ?? 0) + 1);
  return JSON.stringify(Object.fromEntries(counts));
}

describe('a lone broker whose disk fails', () => {
  const disks: SmallDisk[] = [];
  const brokers: BrokerProcess[] = [];
  after(async () => {
    for (const b of brokers) if (b.child.exitCode === null) await b.kill9();
    for (const d of disks) d.remove();
  });

  test('a full log dir: produce gets KAFKA_STORAGE_ERROR, the broker lives on, and after freeing space and a restart nothing acknowledged is lost', async (t) => {
    const disk = mountTmpfs(8);
    disks.push(disk);
    const settings = ['num.partitions=2', 'log.segment.bytes=1048576'].flatMap((s) => ['--set', s]);
    let broker = await startBroker({ dataDir: disk.dir, extraArgs: settings });
    brokers.push(broker);
    const filler = fillUp(disk.dir, 2 * 1024 * 1024);

    // ~2 MiB free and 1000-byte records: the disk is full after about two thousand.
    const { acks, errors, out } = await startDiskProducer(broker.bootstrap, 'full', 8, 800, false).done;
    assert.ok(acks.length > 500, `records were acknowledged before the disk filled (${acks.length})`);
    assert.ok(
      errors.some((e) => e.code === ErrorCode.KAFKA_STORAGE_ERROR),
      `the producer was answered KAFKA_STORAGE_ERROR:\n${out
        .split('\n')
        .filter((l) => !l.startsWith('A '))
        .slice(0, 20)
        .join('\n')}`,
    );
    assert.match(broker.output(), /log dir .* is offline after an I\/O error: ENOSPC/);
    await assertOfflineButAlive(broker, 'full', disk.dir);
    t.diagnostic(`${acks.length} acknowledged; errors: ${summarize(errors)}`);

    assert.equal(await broker.stop(), 0, 'the broker with an offline log dir shuts down cleanly');
    fs.rmSync(filler);
    broker = await startBroker({ dataDir: disk.dir, port: broker.port, extraArgs: settings });
    brokers.push(broker);
    await assertEverythingAcknowledgedIsThere(broker, 'full', acks);
    const more = await startDiskProducer(broker.bootstrap, 'full', 1, 100, false).done;
    assert.ok(more.acks.length > 50 && more.errors.length === 0, 'the broker takes records again');
    assert.equal(await broker.stop(), 0);
  });

  test('a log dir that turns read-only: produce gets KAFKA_STORAGE_ERROR, and after a repair and a restart every fsynced acknowledged record is there', async (t) => {
    const disk = ext4Volume(64);
    disks.push(disk);
    // flush.messages=1: acknowledged means fsynced, so what the disk had taken it keeps.
    const settings = ['num.partitions=2', 'log.flush.interval.messages=1'].flatMap((s) => ['--set', s]);
    let broker = await startBroker({ dataDir: disk.dir, extraArgs: settings });
    brokers.push(broker);

    const producer = startDiskProducer(broker.bootstrap, 'readonly', 8, 300, false);
    const deadline = Date.now() + 20_000;
    while (producer.acked() < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    disk.turnReadOnly();
    const { acks, errors } = await producer.done;
    assert.ok(acks.length > 100, `records were acknowledged before the disk failed (${acks.length})`);
    assert.ok(
      errors.some((e) => e.code === ErrorCode.KAFKA_STORAGE_ERROR),
      `the producer was answered KAFKA_STORAGE_ERROR: ${JSON.stringify(errors.slice(0, 5))}`,
    );
    assert.match(broker.output(), /log dir .* is offline after an I\/O error: (EROFS|EIO)/);
    await assertOfflineButAlive(broker, 'readonly', disk.dir);
    t.diagnostic(`${acks.length} acknowledged; errors: ${summarize(errors)}`);

    assert.equal(await broker.stop(), 0, 'the broker with an offline log dir shuts down cleanly');
    disk.repair();
    broker = await startBroker({ dataDir: disk.dir, port: broker.port, extraArgs: settings });
    brokers.push(broker);
    await assertEverythingAcknowledgedIsThere(broker, 'readonly', acks);
    assert.equal(await broker.stop(), 0);
  });
});
