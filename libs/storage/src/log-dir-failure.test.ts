import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { batchHeaders, ErrorCode, KafkaProtocolError } from '@tributary/protocol';
import { memoryLogger, simpleBatch } from '../test/batch-fixtures';
import { LogManager } from './log-manager';

/**
 * A log dir on a disk that fills up or fails, for real: a small tmpfs filled to the last
 * byte, and an ext4 volume on a loop device that an error turns read-only (errors=remount-ro),
 * as a failing disk does. Both need root; without it these tests fail, saying so.
 */

const cleanups: (() => void)[] = [];
after(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function mountTmpfs(sizeMiB: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-tmpfs-'));
  try {
    run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  } catch (err) {
    fs.rmdirSync(dir);
    throw new Error(`these tests mount a tmpfs and need root: ${(err as Error).message}`);
  }
  cleanups.push(() => {
    run('umount', ['-l', dir]);
    fs.rmdirSync(dir);
  });
  return dir;
}

/** Fills the file system of `dir` up to its last free byte with `file`. */
function fillUp(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
}

/** Every batch of a partition from the start: each must be whole, pass its CRC and follow the last. */
function readAll(m: LogManager, topic: string, partition: number): number {
  const log = m.partition(topic, partition)!;
  let offset = log.logStartOffset;
  let records = 0;
  while (offset < log.logEndOffset) {
    const { records: bytes } = log.read(offset, 1 << 20, { minOneBatch: true });
    assert.ok(bytes.length > 0, `nothing read at ${offset} of ${log.logEndOffset}`);
    for (const h of batchHeaders(bytes)) {
      assert.equal(h.baseOffset, offset, 'batches follow each other');
      assert.ok(h.isCrcValid(), `batch at ${h.baseOffset} fails its CRC`);
      records += h.recordCount;
      offset = h.lastOffset + 1;
    }
  }
  return records;
}

const storageError = (err: unknown) => {
  assert.ok(err instanceof KafkaProtocolError, String(err));
  assert.equal(err.code, ErrorCode.KAFKA_STORAGE_ERROR, err.message);
  return true;
};

/**
 * Appends batches of just over 4 KiB (a full tmpfs takes such a write in part), alternating
 * partitions, until one fails; returns the records and bytes each acknowledged.
 */
function appendUntilFailure(
  m: LogManager,
  topic: string,
): { acked: number[]; bytes: number[]; failure: unknown } {
  const acked = [0, 0];
  const bytes = [0, 0];
  for (let i = 0; ; i++) {
    const p = i % 2;
    const batch = simpleBatch(4, { valueBytes: 1000 });
    try {
      acked[p] += m.partition(topic, p)!.append(batch, 0).recordCount;
      bytes[p] += batch.length;
    } catch (err) {
      return { acked, bytes, failure: err };
    }
  }
}

/** Bytes in the segment files of a partition directory. */
function segmentBytes(dir: string): number {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

test('a full disk takes the log dir offline with KAFKA_STORAGE_ERROR; after space is freed every acknowledged batch is back, whole', async () => {
  const dir = mountTmpfs(8);
  const logger = memoryLogger();
  const failures: [string, Error][] = [];
  let m = new LogManager({ dataDir: dir, logger, brokerConfig: { 'log.segment.bytes': String(256 * 1024) } });
  m.open();
  m.onLogDirFailure((d, cause) => failures.push([d, cause]));
  m.createTopic('orders', 2);
  // Most of the disk goes to a file the test frees later; segments roll (256 KiB) on the way.
  fillUp(path.join(dir, 'filler'));
  fs.truncateSync(path.join(dir, 'filler'), fs.statSync(path.join(dir, 'filler')).size - 1536 * 1024);

  const { acked, bytes, failure } = appendUntilFailure(m, 'orders');
  storageError(failure);
  assert.match((failure as Error).message, /ENOSPC/);
  assert.ok(acked[0] + acked[1] > 100, `only ${acked} records fitted`);
  assert.equal(m.isOnline, false);
  assert.equal((m.offlineCause as NodeJS.ErrnoException).code, 'ENOSPC');
  // What part of the failed batch reached the file was cut: the logs hold exactly what was acknowledged.
  assert.deepEqual(
    [segmentBytes(path.join(dir, 'orders-0')), segmentBytes(path.join(dir, 'orders-1'))],
    bytes,
  );
  // Every log of the dir is offline, not just the one that failed, and so are topic changes.
  for (const p of [0, 1]) {
    assert.throws(() => m.partition('orders', p)!.append(simpleBatch(1), 0), storageError);
    assert.throws(() => m.partition('orders', p)!.read(0, 1000, { minOneBatch: true }), storageError);
  }
  assert.throws(() => m.createTopic('more', 1), storageError);
  const deadline = Date.now() + 5000;
  while (failures.length === 0 && Date.now() < deadline) await sleep(10);
  assert.deepEqual(
    failures.map(([d, e]) => [d, (e as NodeJS.ErrnoException).code]),
    [[dir, 'ENOSPC']],
  );
  m.close();
  assert.equal(fs.existsSync(path.join(dir, 'orders-0', '.clean-shutdown')), false);

  fs.rmSync(path.join(dir, 'filler'));
  const recovered = memoryLogger();
  m = new LogManager({ dataDir: dir, logger: recovered });
  m.open();
  try {
    assert.deepEqual(
      recovered.lines.filter((l) => /truncated|dropping|rebuil/.test(l)),
      [],
      'recovery found no torn or corrupt batch',
    );
    assert.deepEqual([readAll(m, 'orders', 0), readAll(m, 'orders', 1)], acked);
    assert.equal(m.partition('orders', 0)!.append(simpleBatch(2), 0).recordCount, 2);
  } finally {
    m.close();
  }
});

test('a disk that turns read-only (EROFS) takes the log dir offline; every fsynced batch is there after a repair', async () => {
  const image = path.join(os.tmpdir(), `tributary-ext4-${process.pid}.img`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-ext4-'));
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 32 * 1024 * 1024);
  let device: string;
  try {
    run('mkfs.ext4', ['-q', '-F', image]);
    device = run('losetup', ['-f', '--show', image]).trim();
  } catch (err) {
    fs.rmSync(image, { force: true });
    fs.rmdirSync(dir);
    throw new Error(
      `this test makes an ext4 volume on a loop device and needs root: ${(err as Error).message}`,
    );
  }
  const mount = () => run('mount', ['-o', 'errors=remount-ro', device, dir]);
  mount();
  cleanups.push(() => {
    run('umount', ['-l', dir]);
    run('losetup', ['-d', device]);
    fs.rmSync(image, { force: true });
    fs.rmdirSync(dir);
  });
  const logger = memoryLogger();
  // flush.messages=1: acknowledged means fsynced, so a disk that stops writing loses none of it.
  let m = new LogManager({ dataDir: dir, logger, brokerConfig: { 'log.flush.interval.messages': '1' } });
  m.open();
  m.createTopic('orders', 2);
  const acked = [0, 0];
  for (let i = 0; i < 40; i++)
    acked[i % 2] += m.partition('orders', i % 2)!.append(simpleBatch(3), 0).recordCount;

  // The kernel's own path for a failing ext4 disk: an error remounts it read-only (emergency_ro).
  fs.writeFileSync(`/sys/fs/ext4/${path.basename(device)}/trigger_fs_error`, 'tributary test\n');
  assert.throws(
    () => m.partition('orders', 1)!.append(simpleBatch(3), 0),
    (err: unknown) => {
      storageError(err);
      assert.match((err as Error).message, /EROFS|EIO/);
      return true;
    },
  );
  assert.equal(m.isOnline, false);
  assert.throws(() => m.partition('orders', 0)!.append(simpleBatch(1), 0), storageError);
  m.close();

  run('umount', [dir]);
  try {
    run('e2fsck', ['-fy', device]);
  } catch (err) {
    // 1: errors were corrected, as expected after the forced error.
    if ((err as { status?: number }).status !== 1) throw err;
  }
  mount();
  m = new LogManager({ dataDir: dir, logger: memoryLogger() });
  m.open();
  try {
    assert.deepEqual([readAll(m, 'orders', 0), readAll(m, 'orders', 1)], acked);
    assert.equal(m.partition('orders', 1)!.append(simpleBatch(2), 0).recordCount, 2);
  } finally {
    m.close();
  }
});
