import net from 'node:net';
import tls from 'node:tls';
import {
  AddPartitionsToTxn,
  ApiVersions,
  decodeResponse,
  encodePlainToken,
  encodeRequest,
  ErrorCode,
  KafkaProtocolError,
  parseVersions,
  SaslAuthenticate,
  SaslHandshake,
  ScramClient,
  ScramError,
  type ApiDefinition,
  type RequestInput,
  type ResponseOf,
} from '@tributary/protocol';
import type { SaslOptions, SecurityOptions } from '../security';

export interface ConnectionOptions extends SecurityOptions {
  readonly host: string;
  readonly port: number;
  readonly clientId?: string;
  readonly connectTimeoutMs?: number;
  /** A request not answered in this time fails with REQUEST_TIMED_OUT and closes the connection. */
  readonly requestTimeoutMs?: number;
  /** Requests written before their answers arrive, per connection. */
  readonly maxInflight?: number;
}

interface Pending {
  readonly api: ApiDefinition;
  readonly version: number;
  readonly resolve: (body: Record<string, unknown>) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** A network failure: the connection is gone; the request may or may not have been applied. */
export class ConnectionError extends KafkaProtocolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.NETWORK_EXCEPTION, message, options);
    this.name = 'ConnectionError';
  }
}

/** A TLS handshake that failed on a certificate: retrying cannot help. */
export class SslHandshakeError extends ConnectionError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SslHandshakeError';
  }

  override get retriable(): boolean {
    return false;
  }
}

const CERTIFICATE_PROBLEM = /CERT|SSL|TLS|SIGNATURE|ISSUER|HOSTNAME|ALTNAME/i;

/**
 * Versions a client never asks for unless told to: AddPartitionsToTxn v4+ is the brokers'
 * batched form (KIP-890's verification), which a producer's request does not fill, so
 * producers speak v3 at most, as Kafka's clients do.
 */
const CLIENT_MAX_VERSION: ReadonlyMap<number, number> = new Map([[AddPartitionsToTxn.apiKey, 3]]);

/**
 * One connection to one broker, with pipelined requests: requests in flight are kept by
 * correlation id (wrapping at 2^31) and answered in order; frames are cut from the stream by
 * their size prefix without copying; an answer for an unknown correlation id closes the
 * connection. The versions each API speaks are negotiated once with ApiVersions.
 */
export class Connection {
  private socket: net.Socket | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly waitingForSlot: (() => void)[] = [];
  private nextCorrelationId = 1;
  private buffered: Buffer[] = [];
  private bufferedLength = 0;
  /** Bytes the buffered partial frame needs before it is whole (its size prefix included). */
  private needed = 0;
  private versions = new Map<number, { min: number; max: number }>();
  private closedWith: Error | null = null;
  private readonly closeListeners: ((err: Error) => void)[] = [];

  constructor(readonly options: ConnectionOptions) {}

  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  get isOpen(): boolean {
    return this.socket !== null && this.closedWith === null;
  }

  /**
   * Connects (over TLS with `ssl`), negotiates versions (ApiVersions v3, falling back to v0
   * as brokers ask) and, with `sasl`, authenticates (SaslHandshake v1 and SaslAuthenticate).
   */
  async connect(): Promise<this> {
    const ssl = this.options.ssl;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const { host, port } = this.options;
      const s = ssl
        ? tls.connect({
            host,
            port,
            servername: net.isIP(host) === 0 ? host : undefined,
            ...(ssl === true ? {} : ssl),
          })
        : net.connect({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new ConnectionError(`connect to ${this.address} timed out`));
      }, this.options.connectTimeoutMs ?? 10000);
      s.once(ssl ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const message = `connect to ${this.address} failed: ${err.message}`;
        reject(
          ssl && CERTIFICATE_PROBLEM.test(`${err.code ?? ''} ${err.message}`)
            ? new SslHandshakeError(message, { cause: err })
            : new ConnectionError(message, { cause: err }),
        );
      });
    });
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onData(data));
    socket.on('error', (err) =>
      this.fail(new ConnectionError(`${this.address}: ${err.message}`, { cause: err })),
    );
    socket.on('close', () => this.fail(new ConnectionError(`connection to ${this.address} closed`)));
    this.socket = socket;
    try {
      await this.negotiate();
      if (this.options.sasl !== undefined) await this.authenticate(this.options.sasl);
    } catch (err) {
      this.fail(err as Error);
      throw err;
    }
    return this;
  }

  /**
   * SASL through SaslHandshake v1 and SaslAuthenticate: PLAIN, or SCRAM whose server
   * signature is checked too. A refusal is SASL_AUTHENTICATION_FAILED, which is not retried.
   */
  private async authenticate(sasl: SaslOptions): Promise<void> {
    const handshake = await this.send(SaslHandshake, 1, { mechanism: sasl.mechanism });
    if (handshake.errorCode !== ErrorCode.NONE) {
      throw new KafkaProtocolError(
        handshake.errorCode,
        `${this.address} does not offer ${sasl.mechanism} (it offers ${handshake.mechanisms.join(', ') || 'none'})`,
      );
    }
    const version = this.versionFor(SaslAuthenticate);
    const exchange = async (authBytes: Buffer): Promise<Buffer> => {
      const r = await this.send(SaslAuthenticate, version, { authBytes });
      if (r.errorCode !== ErrorCode.NONE)
        throw new KafkaProtocolError(
          r.errorCode,
          `${this.address}: ${r.errorMessage ?? 'authentication failed'}`,
        );
      return r.authBytes;
    };
    if (sasl.mechanism === 'PLAIN') {
      await exchange(encodePlainToken(sasl.username, sasl.password));
      return;
    }
    const scram = new ScramClient(sasl.mechanism, sasl.username, sasl.password);
    try {
      const serverFirst = await exchange(scram.firstMessage());
      const serverFinal = await exchange(await scram.finalMessage(serverFirst));
      scram.verifyServerFinal(serverFinal);
    } catch (err) {
      if (!(err instanceof ScramError)) throw err;
      throw new KafkaProtocolError(ErrorCode.SASL_AUTHENTICATION_FAILED, `${this.address}: ${err.message}`);
    }
  }

  private async negotiate(): Promise<void> {
    let body = await this.send(ApiVersions, 3, {
      clientSoftwareName: 'tributary',
      clientSoftwareVersion: '0.1.0',
    });
    if (body.errorCode === ErrorCode.UNSUPPORTED_VERSION) body = await this.send(ApiVersions, 0, {});
    if (body.errorCode !== ErrorCode.NONE) {
      throw new KafkaProtocolError(body.errorCode, `ApiVersions from ${this.address} failed`);
    }
    this.versions = new Map(body.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
  }

  /** The highest version both sides speak, or UNSUPPORTED_VERSION. */
  versionFor(api: ApiDefinition): number {
    const ours = parseVersions(api.versions);
    const theirs = this.versions.get(api.apiKey);
    const max = Math.min(ours.max, CLIENT_MAX_VERSION.get(api.apiKey) ?? ours.max, theirs?.max ?? -1);
    if (theirs === undefined || max < Math.max(ours.min, theirs.min)) {
      throw new KafkaProtocolError(
        ErrorCode.UNSUPPORTED_VERSION,
        `${this.address} does not support ${api.name} in versions ${api.versions}`,
      );
    }
    return max;
  }

  /**
   * Sends a request in the negotiated version (or `options.version`) and resolves with the
   * decoded response. `options.timeoutMs` overrides request.timeout.ms for requests the broker
   * may hold longer (JoinGroup waits for a rebalance, Fetch long-polls).
   */
  request<A extends ApiDefinition>(
    api: A,
    body: RequestInput<A>,
    options: { version?: number; timeoutMs?: number } = {},
  ): Promise<ResponseOf<A>> {
    return this.send(api, options.version ?? this.versionFor(api), body, options.timeoutMs);
  }

  /** Sends a request that has no response (Produce with acks=0). Resolves once written. */
  async requestNoResponse<A extends ApiDefinition>(api: A, body: RequestInput<A>): Promise<void> {
    const socket = this.ensureOpen();
    const frame = encodeRequest(
      api,
      this.versionFor(api),
      this.takeCorrelationId(),
      this.options.clientId ?? null,
      body,
    );
    await new Promise<void>((resolve, reject) => {
      socket.cork();
      for (let i = 0; i < frame.length; i++) {
        if (i === frame.length - 1) socket.write(frame[i], (err) => (err ? reject(err) : resolve()));
        else socket.write(frame[i]);
      }
      socket.uncork();
    });
  }

  /** Sends a request in an explicit version. */
  async send<A extends ApiDefinition>(
    api: A,
    version: number,
    body: RequestInput<A>,
    timeoutMs = this.options.requestTimeoutMs ?? 30000,
  ): Promise<ResponseOf<A>> {
    const max = this.options.maxInflight ?? 100;
    while (this.pending.size >= max) await new Promise<void>((resolve) => this.waitingForSlot.push(resolve));
    const socket = this.ensureOpen();
    const correlationId = this.takeCorrelationId();
    const frame = encodeRequest(api, version, correlationId, this.options.clientId ?? null, body);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          new KafkaProtocolError(
            ErrorCode.REQUEST_TIMED_OUT,
            `${api.name} to ${this.address} timed out after ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.pending.set(correlationId, {
        api,
        version,
        resolve: resolve as (b: Record<string, unknown>) => void,
        reject,
        timer,
      });
      socket.cork();
      for (const chunk of frame) socket.write(chunk);
      socket.uncork();
    });
  }

  private takeCorrelationId(): number {
    const id = this.nextCorrelationId;
    this.nextCorrelationId = id === 0x7fffffff ? 1 : id + 1;
    return id;
  }

  private ensureOpen(): net.Socket {
    if (this.closedWith !== null) throw this.closedWith;
    if (this.socket === null) throw new ConnectionError(`not connected to ${this.address}`);
    return this.socket;
  }

  /** Hot path: a frame split over many reads is gathered and joined once, when complete. */
  private onData(data: Buffer): void {
    if (this.bufferedLength > 0) {
      // A large frame (a fetch response) arrives in many reads: gather them and join once.
      this.buffered.push(data);
      this.bufferedLength += data.length;
      if (this.bufferedLength < this.needed) return;
      data = Buffer.concat(this.buffered, this.bufferedLength);
      this.buffered = [];
      this.bufferedLength = 0;
    }
    let at = 0;
    while (data.length - at >= 4) {
      const size = data.readInt32BE(at);
      if (size < 4) return this.fail(new ConnectionError(`${this.address} sent a frame of ${size} bytes`));
      if (data.length - at - 4 < size) break;
      this.onFrame(data.subarray(at + 4, at + 4 + size));
      if (this.closedWith !== null) return;
      at += 4 + size;
    }
    if (at < data.length) {
      this.buffered = [data.subarray(at)];
      this.bufferedLength = data.length - at;
      this.needed = this.bufferedLength >= 4 ? 4 + data.readInt32BE(at) : 4;
    }
  }

  private onFrame(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const p = this.pending.get(correlationId);
    if (p === undefined) {
      this.fail(new ConnectionError(`${this.address} answered unknown correlation id ${correlationId}`));
      return;
    }
    this.pending.delete(correlationId);
    clearTimeout(p.timer);
    this.waitingForSlot.shift()?.();
    try {
      p.resolve(decodeResponse(p.api, p.version, frame).body);
    } catch (err) {
      p.reject(err as Error);
    }
  }

  /** Registers a callback for when the connection closes (not after close() by us). */
  onClose(listener: (err: Error) => void): void {
    this.closeListeners.push(listener);
  }

  private fail(err: Error): void {
    if (this.closedWith !== null) return;
    this.closedWith = err;
    this.socket?.destroy();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    for (const w of this.waitingForSlot.splice(0)) w();
    for (const l of this.closeListeners) l(err);
  }

  close(): void {
    this.fail(new ConnectionError(`connection to ${this.address} was closed by the client`));
  }
}
