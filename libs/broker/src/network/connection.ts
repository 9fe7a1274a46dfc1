import type { Socket } from 'node:net';
import type { Session } from '../security/session';

/**
 * One client connection: cuts size-delimited frames out of the byte stream and writes
 * responses back in request order, as Kafka guarantees per connection, even when a later
 * request (a produce) completes before an earlier one (a long-polling fetch).
 * Hot path: frames are subarrays of the received data, responses are lists of Buffers
 * written with one cork/uncork, nothing is copied that need not be.
 */
export interface FrameSink {
  /** Handles one request frame (without its size prefix). Returns the response chunks, or null for none (acks=0). */
  onFrame(frame: Buffer, connection: Connection): Promise<Buffer[] | null> | Buffer[] | null;
  /** A frame the connection refuses: the connection is closed after this is called. */
  onProtocolViolation(reason: string, connection: Connection): void;
}

interface PendingResponse {
  done: boolean;
  chunks: Buffer[] | null;
}

export class Connection {
  private pendingChunks: Buffer[] = [];
  private pendingLength = 0;
  private needed = 0;
  private readonly inflight: PendingResponse[] = [];
  private closed = false;
  /** A quota was exceeded: nothing is read from the client until then (ms since epoch; 0: not muted). */
  private mutedUntil = 0;
  private muteTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly socket: Socket,
    private sink: FrameSink,
    private maxRequestBytes: number,
    /** Who is on the other end (listener, address, principal). */
    readonly session: Session,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', () => this.close());
    socket.on('close', () => {
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
    if (this.pendingLength >= this.needed && this.pendingChunks.length > 0) {
      const data = Buffer.concat(this.pendingChunks, this.pendingLength);
      this.pendingChunks = [];
      this.pendingLength = 0;
      this.onData(data);
    }
  }

  private onData(data: Buffer): void {
    if (this.pendingChunks.length > 0) {
      // A large frame arrives in many reads: gather them and join once, not per read.
      this.pendingChunks.push(data);
      this.pendingLength += data.length;
      if (this.pendingLength < this.needed) return;
      data = Buffer.concat(this.pendingChunks, this.pendingLength);
      this.pendingChunks = [];
      this.pendingLength = 0;
    }
    let at = 0;
    while (!this.closed && this.mutedUntil === 0 && data.length - at >= 4) {
      const size = data.readInt32BE(at);
      if (size < 0 || size > this.maxRequestBytes) {
        this.violation(
          size < 0
            ? `negative frame size ${size}`
            : `frame of ${size} bytes exceeds socket.request.max.bytes ${this.maxRequestBytes}`,
        );
        return;
      }
      if (data.length - at - 4 < size) break;
      const frame = data.subarray(at + 4, at + 4 + size);
      at += 4 + size;
      this.dispatch(frame);
    }
    if (at < data.length && !this.closed) {
      const rest = data.subarray(at);
      this.needed = rest.length >= 4 ? 4 + rest.readInt32BE(0) : 4;
      this.pendingChunks = [rest];
      this.pendingLength = rest.length;
    }
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

  private complete(slot: PendingResponse, chunks: Buffer[] | null): void {
    slot.done = true;
    slot.chunks = chunks;
    if (this.closed) return;
    let corked = false;
    while (this.inflight.length > 0 && this.inflight[0].done) {
      const next = this.inflight.shift() as PendingResponse;
      if (next.chunks === null) continue;
      if (!corked) {
        this.socket.cork();
        corked = true;
      }
      for (const chunk of next.chunks) this.socket.write(chunk);
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
