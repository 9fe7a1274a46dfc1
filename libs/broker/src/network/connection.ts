import net from 'node:net';
import type { Session } from '../security/session';

/**
 * One client connection: cuts size-delimited frames out of the byte stream and writes
 * responses back in request order, as Kafka guarantees per connection, even when a later
 * request (a produce) completes before an earlier one (a long-polling fetch).
 *
 * Hot path, Buffer-based. Frames are cut out of one assembly buffer that the connection keeps
 * and reuses. On a plain TCP socket the kernel reads straight into it (net.Socket's `onread`),
 * so a producer's 1 MB request is neither copied nor spread over sixty-four fresh 64 KiB
 * buffers (a page fault per 4 KiB, and garbage); on TLS sockets Node's reads are copied into
 * it, but a frame within one read is handed on as a subarray of that read. A frame stays in
 * the buffer for the handler; when the sink says a request's bytes are not kept past onFrame
 * (Produce), the space is reused for the next requests, otherwise the connection leaves the
 * buffer to the handler and takes a new one (a small frame is copied out instead).
 * Responses are lists of Buffers written with one cork/uncork. See docs/performance.md.
 */
export interface FrameSink {
  /** Handles one request frame (without its size prefix). Returns the response chunks, or null for none (acks=0). */
  onFrame(frame: Buffer, connection: Connection): Promise<Buffer[] | null> | Buffer[] | null;
  /**
   * True when nothing refers to `frame`'s bytes once onFrame has returned (whatever it
   * returned), so that they may be overwritten by the next requests. Absent: never.
   */
  releasesFrame?(frame: Buffer): boolean;
  /** A frame the connection refuses: the connection is closed after this is called. */
  onProtocolViolation(reason: string, connection: Connection): void;
  /** The socket has written `chunks` (one response): nothing refers to them any more. */
  written?(chunks: readonly Buffer[]): void;
}

/** Room for reads beyond the frame being gathered (and all an idle connection holds). */
const READ_BYTES = 16 << 10;
/** An assembly buffer larger than this is not kept once its frame is done (memory per connection). */
const ASSEMBLY_KEEP_BYTES = 8 << 20;
/** A frame up to this size that the sink keeps is copied out rather than taking the buffer along. */
const COPY_OUT_BYTES = 16 << 10;

interface PendingResponse {
  done: boolean;
  chunks: Buffer[] | null;
  /** Told when the response is ready (see precedingAnswered). */
  onDone?: (() => void)[];
}

export class Connection {
  readonly socket: net.Socket;
  /** Received bytes not yet handed on as frames are at [heldFrom, heldTo). */
  private assembly: Buffer | null = null;
  private heldFrom = 0;
  private heldTo = 0;
  /** Bytes [heldFrom, heldTo) must hold before its first frame is whole (4 while its size is unknown). */
  private needed = 4;
  private readonly inflight: PendingResponse[] = [];
  private closed = false;
  /** A quota was exceeded: nothing is read from the client until then (ms since epoch; 0: not muted). */
  private mutedUntil = 0;
  private muteTimer: NodeJS.Timeout | null = null;

  constructor(
    socket: net.Socket,
    private sink: FrameSink,
    private maxRequestBytes: number,
    /** Who is on the other end (listener, address, principal). */
    readonly session: Session,
  ) {
    this.socket =
      readsInto(
        socket,
        () => this.readBuffer(),
        (n, buf) => this.onRead(n, buf),
      ) ?? socket;
    if (this.socket === socket) socket.on('data', (data: Buffer) => this.onData(data));
    this.socket.setNoDelay(true);
    this.socket.on('error', () => this.close());
    this.socket.on('close', () => {
      this.closed = true;
      if (this.muteTimer !== null) clearTimeout(this.muteTimer);
    });
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? 'unknown';
  }

  get localAddress(): string {
    return this.socket.localAddress ?? '127.0.0.1';
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /**
   * After authentication: requests go straight to `sink` (the router), with the listener's
   * frame limit, so an authenticated connection's hot path is a plaintext one's.
   */
  authenticated(sink: FrameSink, maxRequestBytes: number): void {
    this.sink = sink;
    this.maxRequestBytes = maxRequestBytes;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Responses still owed to this connection. */
  get inflightCount(): number {
    return this.inflight.length;
  }

  /**
   * A client over its quota (KIP-219): its response goes out at once carrying the throttle
   * time, and the connection reads nothing more from it for that long (the channel is muted,
   * so a client that ignores the throttle time is held back all the same). Frames already
   * received wait in the buffer.
   */
  throttle(ms: number): void {
    if (ms <= 0 || this.closed) return;
    const until = Date.now() + ms;
    if (until <= this.mutedUntil) return;
    this.mutedUntil = until;
    this.socket.pause();
    if (this.muteTimer !== null) clearTimeout(this.muteTimer);
    this.muteTimer = setTimeout(() => this.unmute(), ms);
  }

  private unmute(): void {
    this.muteTimer = null;
    this.mutedUntil = 0;
    if (this.closed) return;
    this.socket.resume();
    this.deliver();
  }

  /** Where the kernel reads next (plain sockets): after what the assembly buffer holds. */
  private readBuffer(): Buffer {
    this.reserve(Math.max(READ_BYTES, this.needed - (this.heldTo - this.heldFrom)));
    return this.assembly!.subarray(this.heldTo);
  }

  /** `n` bytes were read into `buf`, normally where readBuffer() said. */
  private onRead(n: number, buf: Uint8Array): boolean {
    const a = this.assembly;
    if (a !== null && buf.buffer === a.buffer && buf.byteOffset === a.byteOffset + this.heldTo)
      this.heldTo += n;
    // The buffer was left to a handler after that read was set up (unmute): take the bytes over.
    else this.append(Buffer.from(buf.buffer, buf.byteOffset, n));
    this.deliver();
    return true;
  }

  /** Node's reads (TLS): a frame within one read is handed on as is, the rest is gathered. */
  private onData(data: Buffer): void {
    if (this.heldTo > this.heldFrom) {
      this.append(data);
      this.deliver();
      return;
    }
    const at = this.cut(data, 0, data.length);
    if (at < data.length && !this.closed) this.append(data.subarray(at));
  }

  /** Hands on the whole frames gathered in the assembly buffer. */
  private deliver(): void {
    const buffer = this.assembly;
    if (buffer === null || this.heldTo - this.heldFrom < this.needed || this.closed) return;
    const at = this.cut(buffer, this.heldFrom, this.heldTo);
    if (this.closed) return;
    if (this.assembly === buffer) {
      this.heldFrom = at === this.heldTo ? (this.heldTo = 0) : at;
      if (this.heldTo === 0 && buffer.length > ASSEMBLY_KEEP_BYTES) this.assembly = null;
    } else {
      // A handler took the buffer along: what follows its frame moves to a new one.
      const rest = buffer.subarray(at, this.heldTo);
      this.heldFrom = this.heldTo = 0;
      if (rest.length > 0) this.append(rest);
    }
  }

  /**
   * Dispatches the whole frames in data[from, to); returns where the first incomplete one
   * starts, and sets `needed` for it.
   */
  private cut(data: Buffer, from: number, to: number): number {
    let at = from;
    while (!this.closed && this.mutedUntil === 0 && to - at >= 4) {
      const size = data.readInt32BE(at);
      if (size < 0 || size > this.maxRequestBytes) {
        this.violation(
          size < 0
            ? `negative frame size ${size}`
            : `frame of ${size} bytes exceeds socket.request.max.bytes ${this.maxRequestBytes}`,
        );
        return to;
      }
      if (to - at - 4 < size) break;
      let frame = data.subarray(at + 4, at + 4 + size);
      at += 4 + size;
      if (data === this.assembly && this.sink.releasesFrame?.(frame) !== true) {
        if (size <= COPY_OUT_BYTES) frame = Buffer.from(frame);
        else this.assembly = null;
      }
      this.dispatch(frame);
    }
    this.needed = to - at >= 4 ? 4 + data.readInt32BE(at) : 4;
    return at;
  }

  /** Copies `data` after the bytes the assembly buffer holds. */
  private append(data: Buffer): void {
    this.reserve(data.length);
    data.copy(this.assembly!, this.heldTo);
    this.heldTo += data.length;
  }

  /**
   * Makes room for `bytes` more after `heldTo`, moving what is held to the front of the buffer
   * or into a bigger one. A frame's announced size is trusted up to ASSEMBLY_KEEP_BYTES, so
   * that it is gathered with one allocation; a bigger one grows as its bytes come.
   */
  private reserve(bytes: number): void {
    const held = this.heldTo - this.heldFrom;
    const buffer = this.assembly;
    if (buffer !== null && buffer.length - this.heldTo >= bytes) return;
    if (buffer !== null && buffer.length - held >= bytes) {
      buffer.copyWithin(0, this.heldFrom, this.heldTo);
    } else {
      const frame = this.needed <= ASSEMBLY_KEEP_BYTES ? this.needed : 2 * (buffer?.length ?? 0);
      const grown = Buffer.allocUnsafeSlow(Math.max(held + bytes, frame + READ_BYTES));
      if (buffer !== null) buffer.copy(grown, 0, this.heldFrom, this.heldTo);
      this.assembly = grown;
    }
    this.heldFrom = 0;
    this.heldTo = held;
  }

  private dispatch(frame: Buffer): void {
    const slot: PendingResponse = { done: false, chunks: null };
    this.inflight.push(slot);
    let result: Promise<Buffer[] | null> | Buffer[] | null;
    try {
      result = this.sink.onFrame(frame, this);
    } catch (err) {
      this.violation((err as Error).message);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (chunks) => this.complete(slot, chunks),
        (err: Error) => this.violation(err.message),
      );
    } else {
      this.complete(slot, result);
    }
  }

  /**
   * Called from a handler as its request arrives: resolves once every request this connection
   * received before it has its response (null when they all have). Kafka reads a connection's
   * next request only after answering the last, so an answer about the cluster's state
   * (Metadata) is never older than the answers ahead of it; computed at arrival and held behind
   * a parked acks=all produce, it would be, and a client taking it after a fresher one goes
   * back to a leader that has given up (librdkafka does).
   */
  precedingAnswered(): Promise<void> | null {
    const waiting = this.inflight.slice(0, -1).filter((s) => !s.done);
    if (waiting.length === 0) return null;
    return Promise.all(
      waiting.map((s) => new Promise<void>((resolve) => (s.onDone ??= []).push(resolve))),
    ).then(() => undefined);
  }

  private complete(slot: PendingResponse, chunks: Buffer[] | null): void {
    slot.done = true;
    slot.chunks = chunks;
    if (slot.onDone !== undefined) for (const resolve of slot.onDone) resolve();
    if (this.closed) return;
    let corked = false;
    while (this.inflight.length > 0 && this.inflight[0].done) {
      const next = this.inflight.shift() as PendingResponse;
      if (next.chunks === null) continue;
      if (!corked) {
        this.socket.cork();
        corked = true;
      }
      const chunks = next.chunks;
      const last = chunks.length - 1;
      for (let i = 0; i < last; i++) this.socket.write(chunks[i]);
      const sink = this.sink;
      if (last < 0) continue;
      if (sink.written === undefined) this.socket.write(chunks[last]);
      // Writes complete in order: once the last chunk is written, so are the others.
      else this.socket.write(chunks[last], () => sink.written!(chunks));
    }
    if (corked) process.nextTick(() => this.socket.uncork());
  }

  private violation(reason: string): void {
    if (this.closed) return;
    this.sink.onProtocolViolation(reason, this);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }

  /** Closes after what was written so far is sent (a refusal's answer reaches the client first). */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  /** Closes once every response owed has been written (clean shutdown). */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && this.inflight.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    if (!this.closed) {
      this.closed = true;
      this.socket.end();
    }
  }
}

/**
 * A plain TCP socket that Node reads into the caller's memory (net.Socket's `onread` option,
 * `buffer` giving the memory for each next read). Node offers `onread` for sockets it creates
 * with `new net.Socket` only, not for a server's accepted ones, so the accepted socket's handle
 * moves into a new Socket, which also takes over its place in the server's connection count.
 * Null when the socket is not one this can be done with (TLS, or Node's internals differ).
 */
function readsInto(
  socket: net.Socket,
  buffer: () => Buffer,
  callback: (n: number, buf: Uint8Array) => boolean,
): net.Socket | null {
  const accepted = socket as unknown as AcceptedSocket;
  const handle = accepted._handle;
  if (
    socket.constructor !== net.Socket ||
    typeof handle?.useUserBuffer !== 'function' ||
    !('_server' in accepted) ||
    socket.bytesRead !== 0
  )
    return null;
  const adopted = new net.Socket({ handle, onread: { buffer, callback } } as net.SocketConstructorOpts);
  const taken = adopted as unknown as AcceptedSocket;
  taken._server = accepted._server;
  taken.server = accepted.server;
  accepted._server = null;
  accepted.server = null;
  accepted._handle = null;
  return adopted;
}

/** The parts of Node's accepted net.Socket that readsInto() moves. */
interface AcceptedSocket {
  _handle: { useUserBuffer?: unknown } | null;
  _server: net.Server | null;
  server: net.Server | null;
}
