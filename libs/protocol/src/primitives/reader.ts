import { KafkaProtocolError } from '../errors';

/**
 * Reads Kafka primitives from a Buffer without copying: bytes and records come back as
 * subarrays of the frame. Hot path (every request is decoded through it).
 */
export class Reader {
  offset: number;

  constructor(
    readonly buf: Buffer,
    offset = 0,
    readonly end = buf.length,
  ) {
    this.offset = offset;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number): number {
    const at = this.offset;
    if (n < 0 || at + n > this.end) {
      throw KafkaProtocolError.invalidRequest(
        `truncated: need ${n} bytes at offset ${at}, have ${this.end - at}`,
      );
    }
    this.offset = at + n;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.need(1));
  }
  int16(): number {
    return this.buf.readInt16BE(this.need(2));
  }
  uint16(): number {
    return this.buf.readUInt16BE(this.need(2));
  }
  int32(): number {
    return this.buf.readInt32BE(this.need(4));
  }
  uint32(): number {
    return this.buf.readUInt32BE(this.need(4));
  }
  /** int64 as a JS number: offsets and timestamps stay below 2^53. */
  int64(): number {
    const at = this.need(8);
    return this.buf.readInt32BE(at) * 4294967296 + this.buf.readUInt32BE(at + 4);
  }
  float64(): number {
    return this.buf.readDoubleBE(this.need(8));
  }
  bool(): boolean {
    return this.buf[this.need(1)] !== 0;
  }

  uvarint(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf[this.need(1)];
      if (shift === 28) {
        if (b > 0x0f) throw KafkaProtocolError.invalidRequest('varint is longer than 5 bytes');
        return (value + b * 268435456) >>> 0;
      }
      value |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return value >>> 0;
      shift += 7;
    }
  }

  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Signed zig-zag varlong as a number (record deltas and timestamps fit in 2^53). */
  varlong(): number {
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.buf[this.need(1)];
      value += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      mul *= 128;
    }
    throw KafkaProtocolError.invalidRequest('varlong is longer than 10 bytes');
  }

  uuid(): string {
    const at = this.need(16);
    return this.buf.toString('base64url', at, at + 16);
  }

  private lengthChecked(len: number, what: string): number {
    if (len > this.end - this.offset) {
      throw KafkaProtocolError.invalidRequest(
        `${what} length ${len} exceeds the ${this.end - this.offset} bytes left`,
      );
    }
    return len;
  }

  string(): string {
    const len = this.int16();
    if (len < 0) throw KafkaProtocolError.invalidRequest('non-nullable string is null');
    return this.utf8(len);
  }
  nullableString(): string | null {
    const len = this.int16();
    return len < 0 ? null : this.utf8(len);
  }
  compactString(): string {
    const len = this.uvarint() - 1;
    if (len < 0) throw KafkaProtocolError.invalidRequest('non-nullable compact string is null');
    return this.utf8(len);
  }
  compactNullableString(): string | null {
    const len = this.uvarint() - 1;
    return len < 0 ? null : this.utf8(len);
  }
  private utf8(len: number): string {
    const at = this.need(this.lengthChecked(len, 'string'));
    return this.buf.toString('utf8', at, at + len);
  }

  /** Bytes of a known length as a subarray (no copy). */
  raw(len: number): Buffer {
    const at = this.need(this.lengthChecked(len, 'bytes'));
    return this.buf.subarray(at, at + len);
  }
  bytes(): Buffer {
    const len = this.int32();
    if (len < 0) throw KafkaProtocolError.invalidRequest('non-nullable bytes are null');
    return this.raw(len);
  }
  nullableBytes(): Buffer | null {
    const len = this.int32();
    return len < 0 ? null : this.raw(len);
  }
  compactBytes(): Buffer {
    const len = this.uvarint() - 1;
    if (len < 0) throw KafkaProtocolError.invalidRequest('non-nullable compact bytes are null');
    return this.raw(len);
  }
  compactNullableBytes(): Buffer | null {
    const len = this.uvarint() - 1;
    return len < 0 ? null : this.raw(len);
  }

  /** Array length: -1 means null. A length larger than the bytes left is a lie. */
  arrayLength(compact: boolean): number {
    const n = compact ? this.uvarint() - 1 : this.int32();
    if (n > this.end - this.offset) {
      throw KafkaProtocolError.invalidRequest(
        `array length ${n} exceeds the ${this.end - this.offset} bytes left`,
      );
    }
    return n;
  }

  skip(n: number): void {
    this.need(n);
  }
}
