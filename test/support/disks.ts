import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PYTHON, PYTHON_DIR, ROOT, runAsync } from './broker-process';

/**
 * Real disks that fill up or fail, for fault tests (root only: a test that cannot mount fails,
 * saying why). A tmpfs of a few MiB fills as fast as a producer writes; an ext4 volume on a
 * loop device mounted errors=remount-ro turns read-only the way a failing disk does, through
 * ext4's own error path (a plain `mount -o remount,ro` is refused while a broker has files
 * open for writing).
 */

function sh(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface SmallDisk {
  readonly dir: string;
  /** Unmounts and removes the mount point (and the volume's image and loop device). */
  remove(): void;
}

/** A tmpfs of `sizeMiB` mounted on a new directory. */
export function mountTmpfs(sizeMiB: number): SmallDisk {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-tmpfs-'));
  try {
    sh('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  } catch (err) {
    fs.rmdirSync(dir);
    throw new Error(
      `this test mounts a ${sizeMiB} MiB tmpfs and must run as root: ${(err as Error).message}`,
    );
  }
  return {
    dir,
    remove() {
      sh('umount', ['-l', dir]);
      fs.rmdirSync(dir);
    },
  };
}

/**
 * Fills the file system holding `dir` with a file `filler`, leaving about `leaveBytes` free;
 * returns the file, whose removal frees the space again.
 */
export function fillUp(dir: string, leaveBytes: number): string {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  fs.truncateSync(file, Math.max(0, fs.statSync(file).size - leaveBytes));
  return file;
}

export interface FailingDisk extends SmallDisk {
  /** ext4 hits an error and remounts itself read-only (emergency_ro): writes fail with EROFS. */
  turnReadOnly(): void;
  /** After the broker stopped: unmount, e2fsck, mount read-write again (the disk was "replaced"). */
  repair(): void;
}

/** An ext4 volume of `sizeMiB` on a loop device, mounted errors=remount-ro on a new directory. */
export function ext4Volume(sizeMiB: number): FailingDisk {
  const image = path.join(os.tmpdir(), `tributary-ext4-${process.pid}-${Date.now()}.img`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tributary-ext4-'));
  let device: string;
  try {
    fs.writeFileSync(image, '');
    fs.truncateSync(image, sizeMiB * 1024 * 1024);
    sh('mkfs.ext4', ['-q', '-F', image]);
    device = sh('losetup', ['-f', '--show', image]).trim();
  } catch (err) {
    fs.rmSync(image, { force: true });
    fs.rmdirSync(dir);
    throw new Error(
      `this test makes an ext4 volume on a loop device and must run as root: ${(err as Error).message}`,
    );
  }
  const mount = () => sh('mount', ['-o', 'errors=remount-ro', device, dir]);
  try {
    mount();
  } catch (err) {
    sh('losetup', ['-d', device]);
    fs.rmSync(image, { force: true });
    fs.rmdirSync(dir);
    throw err;
  }
  return {
    dir,
    turnReadOnly() {
      fs.writeFileSync(`/sys/fs/ext4/${path.basename(device)}/trigger_fs_error`, 'tributary fault test\n');
    },
    repair() {
      sh('umount', [dir]);
      try {
        sh('e2fsck', ['-fy', device]);
      } catch (err) {
        // 1: errors were corrected, as expected after the forced error.
        if ((err as { status?: number }).status !== 1) throw err;
      }
      mount();
    },
    remove() {
      sh('umount', ['-l', dir]);
      sh('losetup', ['-d', device]);
      fs.rmSync(image, { force: true });
      fs.rmdirSync(dir);
    },
  };
}

/** A record disk_producer.py had acknowledged: when, where, and its key (a sequence number). */
export interface Ack {
  readonly t: number;
  readonly p: number;
  readonly o: number;
  readonly seq: string;
}

export interface DiskProducerReport {
  readonly acks: Ack[];
  /** Delivery errors by the broker's error code (56: KAFKA_STORAGE_ERROR). */
  readonly errors: { t: number; code: number; name: string; p: number }[];
  readonly out: string;
}

export interface DiskProducer {
  /** Records acknowledged so far. */
  acked(): number;
  readonly done: Promise<DiskProducerReport>;
}

/**
 * Runs test/interop/python/disk_producer.py (confluent-kafka, acks=all, 1000-byte records at
 * about `rate` per second for `seconds`); `idempotent` retries until the record is in, else
 * every broker error reaches the report as answered.
 */
export function startDiskProducer(
  bootstrap: string,
  topic: string,
  seconds: number,
  rate: number,
  idempotent: boolean,
): DiskProducer {
  const child = spawn(
    PYTHON,
    [
      path.join(PYTHON_DIR, 'disk_producer.py'),
      bootstrap,
      topic,
      String(seconds),
      String(rate),
      '1000',
      idempotent ? '1' : '0',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let acked = 0;
  child.stdout.on('data', (d: Buffer) => {
    const text = d.toString();
    out += text;
    acked += text.split('\n').filter((l) => l.startsWith('A ')).length;
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
  const done = new Promise<DiskProducerReport>((resolve, reject) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`disk_producer.py exited with ${code}:\n${err}\n${out.slice(-2000)}`));
        return;
      }
      const lines = out.split('\n');
      resolve({
        acks: lines
          .filter((l) => l.startsWith('A '))
          .map((l) => {
            const [, t, p, o, seq] = l.split(' ');
            return { t: Number(t), p: Number(p), o: Number(o), seq };
          }),
        errors: lines
          .filter((l) => l.startsWith('E '))
          .map((l) => {
            const [, t, code, name, , p] = l.split(' ');
            return { t: Number(t), code: Number(code), name, p: Number(p) };
          }),
        out,
      });
    });
  });
  return { acked: () => acked, done };
}

/** Every record of a topic read with kcat, CRCs checked: key by "partition/offset". */
export async function readBack(bootstrap: string, topic: string): Promise<Map<string, string>> {
  const r = await runAsync('kcat', [
    '-b',
    bootstrap,
    '-X',
    'check.crcs=true',
    '-t',
    topic,
    '-C',
    '-o',
    'beginning',
    '-e',
    '-q',
    '-f',
    '%p %o %k\\n',
  ]);
  if (r.status !== 0) throw new Error(`kcat failed: ${r.stderr}`);
  const byPosition = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    if (line.length === 0) continue;
    const [p, o, key] = line.split(' ');
    byPosition.set(`${p}/${o}`, key);
  }
  return byPosition;
}

/** Acknowledged records not found where they were acknowledged. */
export function missingAcks(stored: ReadonlyMap<string, string>, acks: readonly Ack[]): Ack[] {
  return acks.filter((a) => stored.get(`${a.p}/${a.o}`) !== a.seq);
}
