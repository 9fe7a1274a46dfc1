import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ErrorCode } from '../error-codes';
import { KafkaProtocolError } from '../errors';
import { CompressionType } from './batch-header';
import { compress, compressionTypeByName, decompress } from './compression';
import { assertCorrupt, mixedPayload, python } from './test-support';

const CODECS = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
  CompressionType.Zstd,
] as const;
const COMPRESSED = CODECS.filter((c) => c !== CompressionType.None);

// 300 KB: several xerial chunks (32 KiB), lz4 blocks (64/256 KiB) and zstd stream chunks.
const payload = mixedPayload(300_000);

describe('compression round trips', () => {
  for (const codec of CODECS) {
    test(`codec ${codec}: empty, tiny, mixed, incompressible and 5 MB`, () => {
      const inputs = [
        Buffer.alloc(0),
        Buffer.from('x'),
        payload,
        randomBytes(100_000),
        Buffer.alloc(5 * 1024 * 1024, 'abc'),
      ];
      for (const input of inputs) {
        const packed = compress(codec, input);
        if (codec !== CompressionType.None && input.length > 100_000) {
          assert.ok(packed.length < input.length, 'compressible data shrinks');
        }
        assert.ok(decompress(codec, packed).equals(input), `${input.length} bytes`);
      }
    });
  }

  test('levels are passed to gzip and zstd', () => {
    for (const codec of [CompressionType.Gzip, CompressionType.Zstd]) {
      const fast = compress(codec, payload, 1);
      const best = compress(codec, payload, codec === CompressionType.Gzip ? 9 : 19);
      assert.ok(best.length < fast.length, `codec ${codec}: higher level is smaller`);
      assert.ok(decompress(codec, best).equals(payload));
    }
  });

  test('config names map to codec ids', () => {
    assert.equal(compressionTypeByName('zstd'), CompressionType.Zstd);
    assert.equal(compressionTypeByName('none'), CompressionType.None);
    assert.throws(
      () => compressionTypeByName('brotli'),
      (e: unknown) => e instanceof KafkaProtocolError && e.code === ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
    );
  });
});

describe('snappy framing', () => {
  test('we write xerial framing: magic, versions 1/1, 32 KiB chunks of raw snappy', () => {
    const packed = compress(CompressionType.Snappy, payload);
    assert.equal(packed.subarray(0, 8).toString('hex'), '82534e4150505900');
    assert.equal(packed.readInt32BE(8), 1);
    assert.equal(packed.readInt32BE(12), 1);
    let pos = 16;
    let chunks = 0;
    while (pos < packed.length) {
      pos += 4 + packed.readInt32BE(pos);
      chunks++;
    }
    assert.equal(pos, packed.length);
    assert.equal(chunks, Math.ceil(payload.length / 32768));
  });

  test('raw snappy blocks (what librdkafka writes) are read too', () => {
    const raw = python(
      'import sys,snappy; sys.stdout.buffer.write(snappy.compress(sys.stdin.buffer.read()))',
      payload,
    );
    assert.notEqual(raw[0], 0x82);
    assert.ok(decompress(CompressionType.Snappy, raw).equals(payload));
  });
});

describe('interop with Python codecs (third-party implementations)', () => {
  test('gzip from Python decompresses; ours decompresses in Python', () => {
    const theirs = python(
      'import sys,gzip; sys.stdout.buffer.write(gzip.compress(sys.stdin.buffer.read()))',
      payload,
    );
    assert.ok(decompress(CompressionType.Gzip, theirs).equals(payload));
    const back = python(
      'import sys,gzip; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))',
      compress(CompressionType.Gzip, payload),
    );
    assert.ok(back.equals(payload));
  });

  test("snappy: kafka-python's xerial framing (the Java client's format) both ways", () => {
    const theirs = python(
      'import sys; from kafka.codec import snappy_encode; sys.stdout.buffer.write(snappy_encode(sys.stdin.buffer.read(), xerial_compatible=True))',
      payload,
    );
    assert.equal(theirs.subarray(0, 8).toString('hex'), '82534e4150505900');
    assert.ok(decompress(CompressionType.Snappy, theirs).equals(payload));
    const back = python(
      'import sys; from kafka.codec import snappy_decode; sys.stdout.buffer.write(snappy_decode(sys.stdin.buffer.read()))',
      compress(CompressionType.Snappy, payload),
    );
    assert.ok(back.equals(payload));
  });

  test('lz4: frames from python-lz4 in every variant decompress; ours decompress in Python', () => {
    const variants = [
      'block_linked=False',
      'block_linked=True',
      'block_linked=True, content_checksum=True, store_size=True',
      'block_size=lz4.frame.BLOCKSIZE_MAX4MB, block_checksum=True',
      'block_size=lz4.frame.BLOCKSIZE_MAX64KB, store_size=False, compression_level=9',
    ];
    for (const args of variants) {
      const theirs = python(
        `import sys,lz4.frame; sys.stdout.buffer.write(lz4.frame.compress(sys.stdin.buffer.read(), ${args}))`,
        payload,
      );
      assert.ok(decompress(CompressionType.Lz4, theirs).equals(payload), args);
    }
    const kafkaPython = python(
      'import sys; from kafka.codec import lz4_encode; sys.stdout.buffer.write(lz4_encode(sys.stdin.buffer.read()))',
      payload,
    );
    assert.ok(decompress(CompressionType.Lz4, kafkaPython).equals(payload), 'kafka-python lz4');
    // Incompressible input makes the encoder store blocks uncompressed (size high bit set).
    const random = randomBytes(200_000);
    const stored = python(
      'import sys,lz4.frame; sys.stdout.buffer.write(lz4.frame.compress(sys.stdin.buffer.read()))',
      random,
    );
    // magic 4 | FLG, BD | content size 8 | HC, then the first block's size word.
    assert.equal(stored.readUInt32LE(15) >>> 31, 1, 'the first block is stored');
    assert.ok(decompress(CompressionType.Lz4, stored).equals(random), 'stored blocks');
    const back = python(
      'import sys,lz4.frame; sys.stdout.buffer.write(lz4.frame.decompress(sys.stdin.buffer.read()))',
      compress(CompressionType.Lz4, payload),
    );
    assert.ok(back.equals(payload));
  });

  test('lz4: concatenated frames are all read (librdkafka reads them)', () => {
    const half = payload.length / 2;
    const two = Buffer.concat([
      compress(CompressionType.Lz4, payload.subarray(0, half)),
      compress(CompressionType.Lz4, payload.subarray(half)),
    ]);
    assert.ok(decompress(CompressionType.Lz4, two).equals(payload));
  });

  test('zstd: with and without content size, streamed, multi-frame; ours in Python', () => {
    const variants = [
      'sys.stdout.buffer.write(zstd.ZstdCompressor().compress(d))',
      'sys.stdout.buffer.write(zstd.ZstdCompressor(write_content_size=False, level=10).compress(d))',
      // zstd-jni's output stream (the Java client) writes frames like this one: no size.
      'c = zstd.ZstdCompressor().compressobj(); sys.stdout.buffer.write(c.compress(d) + c.flush())',
      'c = zstd.ZstdCompressor(); sys.stdout.buffer.write(c.compress(d[:1000]) + c.compress(d[1000:]))',
    ];
    for (const v of variants) {
      const theirs = python(`import sys,zstandard as zstd; d = sys.stdin.buffer.read(); ${v}`, payload);
      assert.ok(decompress(CompressionType.Zstd, theirs).equals(payload), v);
    }
    const back = python(
      'import sys,zstandard as zstd; sys.stdout.buffer.write(zstd.ZstdDecompressor().decompress(sys.stdin.buffer.read()))',
      compress(CompressionType.Zstd, payload),
    );
    assert.ok(back.equals(payload));
  });
});

describe('corrupt compressed data is CORRUPT_MESSAGE', () => {
  test('unknown codec ids 5-7', () => {
    for (const id of [5, 6, 7]) {
      assertCorrupt(() => decompress(id, payload), `codec ${id}`);
      assert.throws(
        () => compress(id, payload),
        (e: unknown) => e instanceof KafkaProtocolError && e.code === ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
      );
    }
  });

  test('garbage, empty-ish and truncated payloads', () => {
    const garbage = randomBytes(4096);
    for (const codec of COMPRESSED) {
      assertCorrupt(() => decompress(codec, garbage), `codec ${codec} garbage`);
      const good = compress(codec, payload);
      for (const cut of [1, 7, 17, good.length >> 1, good.length - 1]) {
        assertCorrupt(() => decompress(codec, good.subarray(0, cut)), `codec ${codec} cut at ${cut}`);
      }
      // 0x00 alone is a valid empty raw snappy block; 0x05 claims 5 bytes it does not hold.
      assertCorrupt(() => decompress(codec, Buffer.from([0x05])), `codec ${codec} one byte`);
    }
  });

  test('xerial chunk lengths that overrun or go negative', () => {
    const good = compress(CompressionType.Snappy, payload);
    const over = Buffer.from(good);
    over.writeInt32BE(good.length, 16);
    assertCorrupt(() => decompress(CompressionType.Snappy, over), 'overrun');
    const negative = Buffer.from(good);
    negative.writeInt32BE(-5, 16);
    assertCorrupt(() => decompress(CompressionType.Snappy, negative), 'negative');
  });

  test('sizes that lie are refused before anything is allocated for them', () => {
    // A raw snappy block claiming 4 GiB of output in 8 bytes.
    const snappy = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x61, 0x62]);
    assertCorrupt(() => decompress(CompressionType.Snappy, snappy), 'snappy preamble');
    // An lz4 frame declaring a 2^40-byte content size.
    const lz4 = python(
      'import sys,lz4.frame; sys.stdout.buffer.write(lz4.frame.compress(b"abc", store_size=True))',
    );
    lz4.writeUInt32LE(256, 4 + 2 + 4);
    assertCorrupt(() => decompress(CompressionType.Lz4, lz4), 'lz4 content size');
    // A zstd frame declaring 2^40 bytes (its header: magic, FHD with an 8-byte size, ...).
    const zstd = compress(CompressionType.Zstd, Buffer.alloc(70_000, 1));
    const fhd = zstd[4];
    assert.equal(fhd >> 6, 2, 'a 4-byte content size field for a 70 kB input');
    assertCorrupt(() => decompress(CompressionType.Zstd, zstd, 60_000), 'zstd content size above the cap');
  });

  test('decompression bombs stop at the cap for every codec', () => {
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    const cap = 1024 * 1024;
    for (const codec of COMPRESSED) {
      const bomb = compress(codec, zeros);
      assert.ok(bomb.length < 4 * 1024 * 1024, `codec ${codec} packs 64 MiB of zeros small`);
      assertCorrupt(() => decompress(codec, bomb, cap), `codec ${codec} bomb`);
    }
    // Without a declared size (as zstd-jni and streaming writers leave it) the cap holds too.
    const unsized = python(
      'import sys,zstandard as zstd; sys.stdout.buffer.write(zstd.ZstdCompressor(write_content_size=False).compress(bytes(64 << 20)))',
    );
    assertCorrupt(() => decompress(CompressionType.Zstd, unsized, cap), 'unsized zstd bomb');
    const gz = gzipSync(zeros);
    assertCorrupt(() => decompress(CompressionType.Gzip, gz, cap), 'gzip bomb');
  });
});
