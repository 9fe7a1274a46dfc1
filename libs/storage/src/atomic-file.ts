import fs from 'node:fs';
import path from 'node:path';

/**
 * Replaces `file` with `data` so that a crash leaves either the old or the new content, never
 * half of one: write a temp file, fsync it, rename it over the target, fsync the directory so
 * the rename itself is durable. `mode` applies to a new file (0o600 for one holding secrets).
 */
export function writeFileAtomicSync(file: string, data: string | Buffer, mode = 0o644): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

/** Makes creations, renames and unlinks in `dir` durable. */
export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads a file, or null when it does not exist. */
export function readFileIfExists(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
