import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Admin, Connection } from '@tributary/client';
import { DescribeLogDirs, ErrorCode } from '@tributary/protocol';
import { outputs, startCluster, type TestCluster } from '../support/cluster-process';
import {
  ext4Volume,
  fillUp,
  missingAcks,
  mountTmpfs,
  readBack,
  startDiskProducer,
  type DiskProducer,
  type SmallDisk,
} from '../support/disks';
import { until } from '../support/mirror-process';

/**
 * Three brokers, broker 2's log dir on a disk that fails under an idempotent acks=all producer:
 * a real 8 MiB tmpfs that the producer fills, or an ext4 volume that an error turns read-only.
 * Broker 2 reports its dir offline, the controller moves its leaderships to in-sync replicas
 * and takes it out of the ISRs, the producer carries on at the new leaders, and nothing
 * acknowledged is lost; fixed and restarted, broker 2 catches up and rejoins.
 */
interface Scenario {
  readonly name: string;
  /** The disk for broker 2's log dir. */
  disk(): SmallDisk;
  /** Makes the disk fail while `producer` runs; returns how to fix it once broker 2 stopped. */
  fail(disk: SmallDisk, producer: DiskProducer): Promise<() => void>;
  /** What broker 2 logs as the cause. */
  readonly cause: RegExp;
  /**
   * Whether recovery may cut a tail: a disk that stops writing drops what was only in the page
   * cache (the other replicas have it); a full one keeps every byte, and no append was left torn.
   */
  readonly recoveryMayCut: boolean;
}

const scenarios: Scenario[] = [
  {
    name: 'fills up',
    disk: () => mountTmpfs(8),
    fail(disk) {
      // About 1.5 MiB left: broker 2, which holds a replica of every partition, fills within seconds.
      const filler = fillUp(disk.dir, 1536 * 1024);
      return Promise.resolve(() => fs.rmSync(filler));
    },
    cause: /log dir .* is offline after an I\/O error: ENOSPC/,
    recoveryMayCut: false,
  },
  {
    name: 'turns read-only',
    disk: () => ext4Volume(64),
    async fail(disk, producer) {
      await until('500 acknowledged records', () => producer.acked() >= 500, 20_000, 50);
      const volume = disk as ReturnType<typeof ext4Volume>;
      volume.turnReadOnly();
      return () => volume.repair();
    },
    cause: /log dir .* is offline after an I\/O error: (EROFS|EIO)/,
    recoveryMayCut: true,
  },
];

for (const scenario of scenarios) {
  describe(`a cluster broker whose log dir ${scenario.name}`, () => {
    let disk: SmallDisk;
    let cluster: TestCluster;

    before(async () => {
      disk = scenario.disk();
      cluster = await startCluster({ brokers: 3, dataDirs: { 2: disk.dir } });
    });

    after(async () => {
      await cluster?.stop();
      disk?.remove();
    });

    const partitions = async (fromNode?: number) =>
      (await cluster.metadata(['disk'], fromNode)).topics[0].partitions.map((p) => ({
        index: p.partitionIndex,
        leader: p.leaderId,
        isr: [...p.isrNodes].sort(),
        offline: [...p.offlineReplicas],
      }));

    test('leadership moves to in-sync replicas, produce continues, nothing acknowledged is lost, and the broker rejoins after a restart', async (t) => {
      const admin = new Admin({ bootstrapServers: cluster.bootstrap });
      await admin.createTopics([
        { name: 'disk', numPartitions: 3, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } },
      ]);
      await admin.close();
      const ledBy2 = await cluster.waitFor('every partition led with three in sync', async () => {
        const ps = await partitions();
        if (!ps.every((p) => p.leader >= 0 && p.isr.length === 3)) return undefined;
        const led = ps.filter((p) => p.leader === 2).map((p) => p.index);
        return led.length > 0 ? led : undefined;
      });

      const producer = startDiskProducer(cluster.bootstrap, 'disk', 15, 300, true);
      const fix = await scenario.fail(disk, producer);
      const movedAt = await cluster.waitFor(
        "broker 2's replicas offline and its leaderships moved",
        async () => {
          // Asked of broker 2 itself: it lives on and answers with the new leaders.
          const ps = await partitions(2);
          const moved = ps.every((p) => p.leader !== 2 && p.leader >= 0 && !p.isr.includes(2));
          return moved && ps.every((p) => p.offline.includes(2)) ? Date.now() : undefined;
        },
        30_000,
      );
      const report = await producer.done;
      assert.match(report.out, /^DONE 0$/m, `every record was delivered:\n${report.out.slice(-1500)}`);
      assert.deepEqual(
        report.errors.slice(0, 3),
        [],
        `the idempotent producer lost nothing (${report.errors.length} errors); the brokers said:\n${outputs(
          cluster,
        )
          .split('\n')
          .filter((l) => /^--- broker|disk-|log dir|controller|WARN|ERROR/.test(l))
          .join('\n')}`,
      );
      const resumed = report.acks.filter((a) => a.t > movedAt && ledBy2.includes(a.p));
      assert.ok(
        resumed.length > 100,
        `the partitions broker 2 led took records at their new leaders (${resumed.length})`,
      );
      t.diagnostic(`${report.acks.length} acknowledged, ${resumed.length} at the new leaders after the move`);

      const broker2 = cluster.node(2).process;
      assert.equal(broker2.child.exitCode, null, 'broker 2 is still running');
      assert.match(broker2.output(), scenario.cause);
      const conn = new Connection({ host: '127.0.0.1', port: broker2.port, requestTimeoutMs: 5000 });
      await conn.connect();
      try {
        const dirs = await conn.request(DescribeLogDirs, { topics: null });
        assert.deepEqual(
          dirs.results.map((d) => [d.logDir, d.errorCode]),
          [[path.resolve(disk.dir), ErrorCode.KAFKA_STORAGE_ERROR]],
        );
      } finally {
        conn.close();
      }

      // Fixed and restarted, the broker recovers, catches up and is in sync again.
      assert.equal(await broker2.stop(), 0);
      fix();
      await cluster.restart(2);
      await cluster.waitFor(
        'broker 2 back in every ISR',
        async () =>
          (await partitions()).every((p) => p.isr.length === 3 && p.offline.length === 0) ? true : undefined,
        30_000,
      );
      if (!scenario.recoveryMayCut)
        assert.doesNotMatch(
          cluster.node(2).process.output(),
          /recovery truncated|partial batch|fails its CRC/,
        );

      const stored = await readBack(cluster.bootstrap, 'disk');
      const missing = missingAcks(stored, report.acks);
      assert.deepEqual(
        missing.slice(0, 5),
        [],
        `${missing.length} acknowledged records are missing\n${outputs(cluster).slice(-3000)}`,
      );
      const keys = [...stored.values()];
      assert.equal(new Set(keys).size, keys.length, 'no record is stored twice');
    });
  });
}
