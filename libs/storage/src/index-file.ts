import fs from 'node:fs';

/**
 * A segment index: fixed-size big-endian entries, kept in memory in exactly their file layout
 * and appended to the file as they are made. Kafka preallocates and memory-maps its indexes;
 * here the in-memory copy answers lookups and the file only has to survive a restart, so it
 * is written with plain appends (page cache, like the log) and fsynced with its segment.
 */
export class IndexFile {
  private buf: Buffer;
  private entries: number;
  /** While rebuilding, entries are written to the file in one go at the end. */
  private bulk = false;
  /** False when the file's size was not a whole number of entries (a torn write). */
  readonly wellFormed: boolean;

  private constructor(
    private file: string,
    readonly entrySize: number,
    private fd: number,
    content: Buffer,
  ) {
    this.entries = Math.floor(content.length / entrySize);
    this.buf = Buffer.alloc(Math.max(64 * entrySize, content.length));
    content.copy(this.buf);
    this.wellFormed = content.length % entrySize === 0;
  }

  /** Opens (creating when missing) an index file and reads its entries. */
  static open(file: string, entrySize: number, truncate = false): IndexFile {
    const fd = fs.openSync(file, truncate ? 'w+' : fs.existsSync(file) ? 'r+' : 'w+');
    try {
      const content = truncate ? Buffer.alloc(0) : fs.readFileSync(fd);
      return new IndexFile(file, entrySize, fd, content);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  get count(): number {
    return this.entries;
  }

  /** The in-memory entries, for reads with readInt32BE and friends at `i * entrySize`. */
  get view(): Buffer {
    return this.buf;
  }

  /** Appends one entry already laid out by `fill` at the given byte offset of the buffer. */
  append(fill: (buf: Buffer, at: number) => void): void {
    const at = this.entries * this.entrySize;
    if (at + this.entrySize > this.buf.length) {
      const bigger = Buffer.alloc(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, at);
      this.buf = bigger;
    }
    fill(this.buf, at);
    this.entries++;
    if (!this.bulk) writeFully(this.fd, this.buf, at, this.entrySize, at);
  }

  /** Keeps the first `n` entries, in memory and on disk. */
  truncateTo(n: number): void {
    this.entries = Math.min(n, this.entries);
    fs.ftruncateSync(this.fd, this.entries * this.entrySize);
  }

  /** Starts a rebuild: drops every entry; appends stay in memory until endBulk(). */
  beginBulk(): void {
    this.entries = 0;
    this.bulk = true;
  }

  endBulk(): void {
    this.bulk = false;
    const len = this.entries * this.entrySize;
    fs.ftruncateSync(this.fd, 0);
    if (len > 0) writeFully(this.fd, this.buf, 0, len, 0);
  }

  flush(): void {
    fs.fdatasyncSync(this.fd);
  }

  /** Renames the file; the open descriptor keeps working. */
  renameTo(file: string): void {
    fs.renameSync(this.file, file);
    this.file = file;
  }

  close(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Writes all of buf[offset, offset+length) at `position`; a regular file may take it in parts. */
export function writeFully(fd: number, buf: Buffer, offset: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    done += fs.writeSync(fd, buf, offset + done, length - done, position + done);
  }
}

/** Reads up to `length` bytes at `position` into buf[offset..]; returns how many (fewer only at EOF). */
export function readFully(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}
