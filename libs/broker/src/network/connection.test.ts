import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { Session } from '../security/session';
import { Connection, type FrameSink } from './connection';

/** A frame: its size, then `body`. */
function framed(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/** A body whose bytes say which frame it is (its first 2 bytes are the "API key" `key`). */
function body(key: number, n: number, size: number): Buffer {
  const b = Buffer.alloc(size, n & 0xff);
  b.writeInt16BE(key, 0);
  if (size >= 6) b.writeInt32BE(n, 2);
  return b;
}

/**
 * A server whose connections hand frames to a sink that keeps every frame it was given, as
 * is (a view, not a copy): for frames the sink says it does not keep (key 0), their bytes
 * are copied at once, since the connection may reuse them; the others are checked later, so
 * that a frame overwritten after onFrame shows.
 */
async function serve(
  ask: (frame: Buffer) => Buffer[] | null | Promise<Buffer[] | null> = () => [Buffer.from([1])],
): Promise<{ port: number; frames: Buffer[]; violations: string[]; close: () => Promise<void> }> {
  const frames: Buffer[] = [];
  const violations: string[] = [];
  const sink: FrameSink = {
    onFrame(frame) {
      frames.push(frame.readInt16BE(0) === 0 ? Buffer.from(frame) : frame);
      return ask(frame);
    },
    releasesFrame: (frame) => frame.readInt16BE(0) === 0,
    onProtocolViolation: (reason) => violations.push(reason),
  };
  const connections: Connection[] = [];
  const server = net.createServer((socket) =>
    connections.push(new Connection(socket, sink, 64 << 20, new Session('PLAINTEXT', 'test'))),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    frames,
    violations,
    close: async () => {
      for (const c of connections) c.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise((resolve) => socket.once('connect', resolve));
  return socket;
}

/** Waits until `check` holds, failing after 10 s. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('frames cut out of a stream split anywhere arrive whole and unchanged, reused or kept', async () => {
  const s = await serve();
  try {
    // Released (key 0) and kept (key 1) frames, small and large, one stream.
    const bodies: Buffer[] = [];
    for (let n = 0; n < 60; n++) bodies.push(body(n % 2, n, [10, 3000, 70_000, 1_100_000][n % 4]));
    const stream = Buffer.concat(bodies.map(framed));
    const client = await connect(s.port);
    let answers = 0;
    client.on('data', (d: Buffer) => (answers += d.length));
    // Writes of odd sizes, some a byte, some several frames: reads end anywhere.
    const sizes = [1, 3, 4, 5, 1000, 65_536, 7, 2_000_000, 13];
    for (let at = 0, i = 0; at < stream.length; i++) {
      const n = sizes[i % sizes.length];
      client.write(stream.subarray(at, at + n));
      at += n;
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    await until('every frame', () => s.frames.length === bodies.length && answers === bodies.length);
    s.frames.forEach((f, n) => assert.ok(f.equals(bodies[n]), `frame ${n} differs`));
    assert.deepEqual(s.violations, []);
    client.destroy();
  } finally {
    await s.close();
  }
});

test('responses go out in request order while a kept frame waits for its answer', async () => {
  let release: (() => void) | null = null;
  const s = await serve((frame) => {
    const n = frame.readInt32BE(2);
    if (n !== 0) return [Buffer.from([n])];
    return new Promise((resolve) => (release = () => resolve([Buffer.from([0])])));
  });
  try {
    const client = await connect(s.port);
    const answers: number[] = [];
    client.on('data', (d: Buffer) => answers.push(...d));
    client.write(Buffer.concat([0, 1, 2].map((n) => framed(body(1, n, 2_000_000)))));
    await until('three frames', () => s.frames.length === 3);
    assert.deepEqual(answers, []);
    release!();
    await until('three answers', () => answers.length === 3);
    assert.deepEqual(answers, [0, 1, 2]);
    s.frames.forEach((f, n) => assert.equal(f.readInt32BE(2), n));
    client.destroy();
  } finally {
    await s.close();
  }
});

test('a frame size over the limit or negative closes the connection', async () => {
  const s = await serve();
  try {
    for (const size of [-1, 100 << 20]) {
      const client = await connect(s.port);
      const closed = new Promise((resolve) => client.once('close', resolve));
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(size);
      client.write(prefix);
      await closed;
    }
    assert.equal(s.violations.length, 2);
    assert.match(s.violations[0], /negative frame size -1/);
    assert.match(s.violations[1], /exceeds socket.request.max.bytes/);
  } finally {
    await s.close();
  }
});
