import fs from 'node:fs';
import { readInt64, writeInt64 } from './int64';
import { writeFully } from './index-file';

export const TXN_INDEX_SUFFIX = '.txnindex';
/** version int16 | producerId int64 | firstOffset int64 | lastOffset int64 | lastStableOffset int64 */
const ENTRY = 34;
const VERSION = 0;

/**
 * An aborted transaction (Kafka's AbortedTxn): the producer, the offsets of its first record
 * and of its ABORT marker, and the last stable offset when the marker was appended. Fetch
 * hands these to read_committed consumers, which drop the producer's records in between.
 */
export interface AbortedTxn {
  readonly producerId: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly lastStableOffset: number;
}

/**
 * A segment's aborted transactions index, Kafka's `.txnindex`: one 34-byte entry per ABORT
 * marker in the segment, in marker order. Most segments never hold one, so the file is only
 * created by the first entry (a segment without the file has none). The entries are also kept
 * in memory, laid out as in the file, for Fetch to search.
 */
export class TransactionIndex {
  private buf: Buffer;
  private entries: number;
  private fd = -1;
  private dirty = false;

  private constructor(
    private file: string,
    content: Buffer,
  ) {
    this.entries = Math.floor(content.length / ENTRY);
    this.buf = Buffer.alloc(Math.max(4 * ENTRY, content.length));
    content.copy(this.buf);
  }

  /** A new, empty index; a stale file of the same name is removed. */
  static create(file: string): TransactionIndex {
    fs.rmSync(file, { force: true });
    return new TransactionIndex(file, Buffer.alloc(0));
  }

  /**
   * Reads an existing index (none: empty). `wellFormed` is false when the file is not whole
   * entries of version 0 with increasing marker offsets at or above `baseOffset`, a file torn
   * by a crash: the caller rebuilds it from the log.
   */
  static open(file: string, baseOffset: number): { index: TransactionIndex; wellFormed: boolean } {
    let content: Buffer;
    try {
      content = fs.readFileSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      content = Buffer.alloc(0);
    }
    const index = new TransactionIndex(file, content);
    let wellFormed = content.length % ENTRY === 0;
    let last = baseOffset - 1;
    for (let i = 0; wellFormed && i < index.entries; i++) {
      const t = index.entry(i);
      wellFormed =
        content.readInt16BE(i * ENTRY) === VERSION &&
        t.lastOffset > last &&
        t.firstOffset <= t.lastOffset &&
        t.producerId >= 0;
      last = t.lastOffset;
    }
    return { index, wellFormed };
  }

  get count(): number {
    return this.entries;
  }

  entry(i: number): AbortedTxn {
    const at = i * ENTRY;
    return {
      producerId: readInt64(this.buf, at + 2),
      firstOffset: readInt64(this.buf, at + 10),
      lastOffset: readInt64(this.buf, at + 18),
      lastStableOffset: readInt64(this.buf, at + 26),
    };
  }

  /** Every entry, in marker order. */
  all(): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    for (let i = 0; i < this.entries; i++) out.push(this.entry(i));
    return out;
  }

  private lastOffsetAt(i: number): number {
    return readInt64(this.buf, i * ENTRY + 18);
  }

  /** Appends an entry, whose marker must follow the last one's (as Kafka requires). */
  append(txn: AbortedTxn): void {
    if (this.entries > 0 && txn.lastOffset <= this.lastOffsetAt(this.entries - 1)) {
      throw new Error(
        `aborted transaction of producer ${txn.producerId} ends at ${txn.lastOffset}, ` +
          `not after the last one in ${this.file} (${this.lastOffsetAt(this.entries - 1)})`,
      );
    }
    const at = this.entries * ENTRY;
    if (at + ENTRY > this.buf.length) {
      const bigger = Buffer.alloc(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, at);
      this.buf = bigger;
    }
    this.buf.writeInt16BE(VERSION, at);
    writeInt64(this.buf, at + 2, txn.producerId);
    writeInt64(this.buf, at + 10, txn.firstOffset);
    writeInt64(this.buf, at + 18, txn.lastOffset);
    writeInt64(this.buf, at + 26, txn.lastStableOffset);
    this.entries++;
    if (this.fd < 0) this.fd = fs.openSync(this.file, fs.existsSync(this.file) ? 'r+' : 'w+');
    writeFully(this.fd, this.buf, at, ENTRY, at);
    this.dirty = true;
  }

  /**
   * Kafka's collectAbortedTxns: adds the transactions that overlap [fetchOffset, upperBound)
   * to `out`. Returns true when the search is complete: an entry's last stable offset reached
   * upperBound, so every later-aborted transaction started at or after it.
   */
  collect(fetchOffset: number, upperBound: number, out: AbortedTxn[]): boolean {
    for (let i = 0; i < this.entries; i++) {
      const t = this.entry(i);
      if (t.lastOffset >= fetchOffset && t.firstOffset < upperBound) out.push(t);
      if (t.lastStableOffset >= upperBound) return true;
    }
    return false;
  }

  /** Drops the entries whose marker is at or after `offset` (the segment was cut there). */
  truncateTo(offset: number): void {
    let keep = this.entries;
    while (keep > 0 && this.lastOffsetAt(keep - 1) >= offset) keep--;
    if (keep === this.entries) return;
    this.entries = keep;
    if (keep === 0) this.removeFile();
    else {
      this.ensureOpen();
      fs.ftruncateSync(this.fd, keep * ENTRY);
      this.dirty = true;
    }
  }

  /** Drops every entry and the file (it is about to be rebuilt from the log). */
  reset(): void {
    this.entries = 0;
    this.removeFile();
  }

  private ensureOpen(): void {
    if (this.fd < 0) this.fd = fs.openSync(this.file, 'r+');
  }

  private removeFile(): void {
    this.close();
    fs.rmSync(this.file, { force: true });
    this.dirty = false;
  }

  flush(): void {
    if (!this.dirty || this.fd < 0) return;
    fs.fdatasyncSync(this.fd);
    this.dirty = false;
  }

  /** Renames the file when there is one; later writes go to the new name. */
  renameTo(file: string): void {
    if (fs.existsSync(this.file)) fs.renameSync(this.file, file);
    this.file = file;
  }

  close(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  delete(): void {
    this.removeFile();
  }
}
