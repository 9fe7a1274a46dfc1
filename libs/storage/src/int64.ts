/** An int64 field read as a number (exact up to 2^53, which offsets and producer ids stay below). */
export function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 4294967296 + buf.readUInt32BE(at + 4);
}

export function writeInt64(buf: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * 4294967296, at + 4);
}
