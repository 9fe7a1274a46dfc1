import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import { validateProducedBatches } from '@tributary/protocol';
import { memoryLogger, offsetsOf, simpleBatch } from '../test/batch-fixtures';
import { PartitionLog } from './partition-log';
import { TopicConfig } from './topic-config';

const dirs: string[] = [];
const logs: PartitionLog[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-recovery-'));
  dirs.push(dir);
  return dir;
}

function open(dir: string, overrides: Record<string, string> = {}) {
  const logger = memoryLogger();
  const log = PartitionLog.open({ dir, config: TopicConfig.resolve(overrides), logger });
  logs.push(log);
  return { log, logger };
}

/** Leaves the log as a crash would: files closed by the OS, no flush, no clean-shutdown marker. */
function crash(log: PartitionLog): void {
  log.closeForDeletion();
}

afterEach(() => {
  for (const log of logs.splice(0)) {
    try {
      log.close();
    } catch {
      // closed by the test
    }
  }
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const SEGMENT_0 = '00000000000000000000';

/** Every stored byte from the log start, checked: whole batches, valid CRCs, contiguous offsets. */
function contents(log: PartitionLog): Buffer {
  const parts: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records } = log.read(offset, 4 << 20, { minOneBatch: true });
    for (const h of validateProducedBatches(records)) {
      assert.equal(h.baseOffset, offset, 'offsets are contiguous');
      offset = h.lastOffset + 1;
    }
    parts.push(records);
  }
  return Buffer.concat(parts);
}

test('(a) a half-written batch at the end is cut off; the good batches stay and appends continue after them', () => {
  const dir = tempDir();
  let { log } = open(dir);
  for (let i = 0; i < 5; i++) log.append(simpleBatch(4), 0);
  const good = contents(log);
  crash(log);
  const torn = simpleBatch(4);
  fs.appendFileSync(path.join(dir, `${SEGMENT_0}.log`), torn.subarray(0, torn.length >> 1));

  const reopened = open(dir);
  log = reopened.log;
  assert.equal(log.logEndOffset, 20);
  assert.deepEqual(contents(log), good);
  assert.equal(fs.statSync(path.join(dir, `${SEGMENT_0}.log`)).size, good.length);
  assert.ok(
    reopened.logger.lines.some((l) => /truncated segment 0 .*partial batch/.test(l)),
    reopened.logger.lines.join('\n'),
  );
  assert.equal(log.append(simpleBatch(2), 0).baseOffset, 20);
  assert.equal(log.logEndOffset, 22);
});

test('(a) the same after a clean shutdown: the indexes disagree with the log, so it is validated', () => {
  const dir = tempDir();
  let { log } = open(dir);
  for (let i = 0; i < 3; i++) log.append(simpleBatch(2), 0);
  const good = contents(log);
  log.close();
  fs.appendFileSync(path.join(dir, `${SEGMENT_0}.log`), simpleBatch(2).subarray(0, 40));
  log = open(dir).log;
  assert.deepEqual(contents(log), good);
  assert.equal(log.append(simpleBatch(1), 0).baseOffset, 6);
});

test('(b) a flipped byte inside the last batch fails its CRC and the batch is truncated', () => {
  const dir = tempDir();
  let { log } = open(dir);
  for (let i = 0; i < 4; i++) log.append(simpleBatch(3), 0);
  const keep = contents(log).subarray(0, simpleBatch(3).length * 3);
  crash(log);
  const file = path.join(dir, `${SEGMENT_0}.log`);
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 5] ^= 0x20;
  fs.writeFileSync(file, bytes);

  const reopened = open(dir);
  log = reopened.log;
  assert.equal(log.logEndOffset, 9);
  assert.deepEqual(contents(log), keep);
  assert.ok(reopened.logger.lines.some((l) => /CRC-32C/.test(l)));
});

test('a corrupt batch in an earlier segment cuts the log there and deletes the segments after it', () => {
  const dir = tempDir();
  let { log } = open(dir, { 'segment.bytes': '300' });
  for (let i = 0; i < 12; i++) log.append(simpleBatch(2), 0);
  const bases = log.segmentBaseOffsets();
  assert.ok(bases.length >= 4);
  crash(log);
  // Only the segments from the recovery point on are validated: corrupt the second one.
  const second = path.join(dir, `${String(bases[1]).padStart(20, '0')}.log`);
  const bytes = fs.readFileSync(second);
  bytes[bytes.length - 3] ^= 0xff;
  fs.writeFileSync(second, bytes);

  const reopened = open(dir, { 'segment.bytes': '300' });
  log = reopened.log;
  assert.deepEqual(log.segmentBaseOffsets(), bases.slice(0, 2));
  assert.ok(log.logEndOffset < bases[2]);
  contents(log);
  for (const b of bases.slice(2))
    assert.ok(!fs.existsSync(path.join(dir, `${String(b).padStart(20, '0')}.log`)));
  assert.ok(reopened.logger.lines.some((l) => /followed a truncated segment/.test(l)));
});

test('a garbage length in the tail is treated as a torn write', () => {
  const dir = tempDir();
  let { log } = open(dir);
  log.append(simpleBatch(2), 0);
  const good = contents(log);
  crash(log);
  const junk = Buffer.alloc(80, 0);
  junk.writeInt32BE(0x7fffffff, 8);
  fs.appendFileSync(path.join(dir, `${SEGMENT_0}.log`), junk);
  log = open(dir).log;
  assert.deepEqual(contents(log), good);
});

test('a clean shutdown leaves the marker, open removes it and trusts the indexes', () => {
  const dir = tempDir();
  let opened = open(dir, { 'index.interval.bytes': '100' });
  for (let i = 0; i < 50; i++) opened.log.append(simpleBatch(2), 0);
  const before = contents(opened.log);
  opened.log.close();
  assert.ok(fs.existsSync(path.join(dir, '.clean-shutdown')));
  opened = open(dir, { 'index.interval.bytes': '100' });
  assert.ok(!fs.existsSync(path.join(dir, '.clean-shutdown')));
  assert.deepEqual(opened.logger.lines, []);
  assert.deepEqual(contents(opened.log), before);
  assert.equal(opened.log.logEndOffset, 100);
});

test('a torn index file is rebuilt from the log', () => {
  const dir = tempDir();
  let opened = open(dir, { 'index.interval.bytes': '100' });
  for (let i = 0; i < 50; i++) opened.log.append(simpleBatch(2), 0);
  opened.log.close();
  const index = path.join(dir, `${SEGMENT_0}.index`);
  const entries = fs.readFileSync(index);
  assert.ok(entries.length >= 16);
  fs.writeFileSync(index, entries.subarray(0, entries.length - 3));
  opened = open(dir, { 'index.interval.bytes': '100' });
  assert.ok(opened.logger.lines.some((l) => /rebuilt the indexes of segment 0/.test(l)));
  assert.equal(fs.statSync(index).size, entries.length);
  for (let o = 0; o < 100; o += 7) {
    const [[base, last]] = offsetsOf(opened.log.read(o, 1, { minOneBatch: true }).records);
    assert.ok(base <= o && o <= last);
  }
});

/** Runs the appending child until it has acknowledged `acks` appends, then SIGKILLs it. */
function runAndKill(dir: string, acks: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(__dirname, '..', 'test', 'crash-append-child.js'), dir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    let seen = 0;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      seen += chunk.split('\n').length - 1;
      if (seen >= acks) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (codeOrNull, signal) => {
      if (signal !== 'SIGKILL') {
        reject(new Error(`child exited with ${codeOrNull}: ${err}`));
        return;
      }
      // Only whole lines are acknowledgements; a line cut by the kill is not.
      const lines = out.split('\n').slice(0, -1);
      resolve(lines.length === 0 ? -1 : Number(lines[lines.length - 1]));
    });
  });
}

test('(c) SIGKILL in the middle of appending: every acknowledged batch survives and the log is valid', async () => {
  const dir = tempDir();
  const config = { 'segment.bytes': String(16 * 1024 * 1024) };
  let acked = -1;
  for (const acks of [5, 9, 14, 20, 27]) {
    const last = await runAndKill(dir, acks);
    assert.ok(last > acked, `the child went on after offset ${acked} (acknowledged ${last})`);
    acked = last;
    const { log } = open(dir, config);
    assert.ok(log.logEndOffset > acked, `log end ${log.logEndOffset} covers acknowledged offset ${acked}`);
    assert.equal(contents(log).length, log.size);
    // Leave it unclean again, so the next child recovers on its own too.
    crash(log);
  }
  const { log } = open(dir, config);
  const end = log.logEndOffset;
  assert.equal(log.append(simpleBatch(1), 0).baseOffset, end);
});
