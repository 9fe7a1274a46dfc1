/**
 * Buffers that fetches read stored batches into, reused. A fresh 1 MB buffer per fetch costs
 * a page fault per 4 KiB as the kernel copies into it and garbage for the GC: with fresh
 * buffers, serving kcat's fetches took 4-7 ms of CPU per MB, most of it in page faults.
 * takeReadBuffer() hands out a buffer of a size class (powers of two from 64 KiB to 16 MiB);
 * giveReadBuffer() takes it back once nothing refers to it any more (the broker gives a fetch
 * response's buffers back when the socket has written them). A buffer never given back is
 * simply collected; a buffer that did not come from here is ignored. Hot path, Buffer-based.
 */
const MIN_CLASS = 16; // 64 KiB
const MAX_CLASS = 24; // 16 MiB
/** At most this many bytes wait in the free lists (all size classes together). */
const POOLED_BYTES_MAX = 64 << 20;

const free: ArrayBuffer[][] = Array.from({ length: MAX_CLASS + 1 }, () => []);
/** Buffers handed out and not given back; weak, so that one never given back is collected. */
const lent = new WeakSet<ArrayBuffer>();
let pooledBytes = 0;

function sizeClass(bytes: number): number {
  return Math.max(MIN_CLASS, 32 - Math.clz32(bytes - 1));
}

/** A Buffer of `bytes` bytes, its contents undefined (as Buffer.allocUnsafe). */
export function takeReadBuffer(bytes: number): Buffer {
  const c = sizeClass(bytes);
  if (c > MAX_CLASS) return Buffer.allocUnsafe(bytes);
  let memory = free[c].pop();
  if (memory === undefined) memory = new ArrayBuffer(1 << c);
  else pooledBytes -= memory.byteLength;
  lent.add(memory);
  return Buffer.from(memory, 0, bytes);
}

/** `buf` (or a part of it) is not referred to any more: its memory may serve the next read. */
export function giveReadBuffer(buf: Buffer): void {
  const memory = buf.buffer;
  if (!(memory instanceof ArrayBuffer) || !lent.has(memory)) return;
  lent.delete(memory);
  if (pooledBytes + memory.byteLength > POOLED_BYTES_MAX) return;
  free[sizeClass(memory.byteLength)].push(memory);
  pooledBytes += memory.byteLength;
}
