import {
  ApiVersions,
  decodePlainToken,
  decodeRequestBody,
  decodeRequestHeader,
  encodeResponse,
  ErrorCode,
  isScramMechanism,
  KafkaProtocolError,
  parseVersions,
  Reader,
  SaslAuthenticate,
  SaslHandshake,
  ScramError,
  ScramServer,
  type ApiDefinition,
  type RequestHeader,
  apiByKey,
} from '@tributary/protocol';
import type { BrokerLogger } from '../broker-context';
import type { ListenerSecurity } from '../config/security-config';
import type { Connection, FrameSink } from '../network/connection';
import type { SecurityManager } from './security-manager';
import { userPrincipal } from './principal';

/** Thrown by a mechanism for credentials it refuses; the message is what the client is told. */
class AuthenticationFailed extends Error {}

interface Mechanism {
  /** The next token for the client; sets `user` once the exchange is complete. */
  evaluate(token: Buffer): Buffer;
  readonly complete: boolean;
  readonly user: string;
}

function plainMechanism(security: SecurityManager): Mechanism {
  const m = {
    complete: false,
    user: '',
    evaluate(token: Buffer): Buffer {
      const t = decodePlainToken(token);
      if (t === null || !security.checkPlain(t.username, t.password))
        throw new AuthenticationFailed('Authentication failed: Invalid username or password');
      if (t.authzid !== '' && t.authzid !== t.username)
        throw new AuthenticationFailed(
          'Authentication failed: Client requested an authorization id that is different from username',
        );
      m.user = t.username;
      m.complete = true;
      return Buffer.alloc(0);
    },
  };
  return m;
}

function scramMechanism(security: SecurityManager, name: 'SCRAM-SHA-256' | 'SCRAM-SHA-512'): Mechanism {
  const server = new ScramServer(
    name,
    (user) => security.scramCredential(user, name),
    (user) => security.fakeSalt(user),
  );
  return {
    get complete() {
      return server.complete;
    },
    get user() {
      return server.username;
    },
    evaluate(token: Buffer): Buffer {
      try {
        return server.evaluate(token);
      } catch (err) {
        if (!(err instanceof ScramError)) throw err;
        throw new AuthenticationFailed(
          `Authentication failed during authentication due to invalid credentials with SASL mechanism ${name}`,
        );
      }
    },
  };
}

/**
 * Kafka's SaslServerAuthenticator for one connection of a SASL listener. Until the client has
 * authenticated only ApiVersions, SaslHandshake and SaslAuthenticate are served (anything
 * else closes the connection) and frames are limited to sasl.server.max.receive.size.
 * A v0 handshake is followed by raw SASL tokens framed by their length (kafka-python); a v1
 * handshake by SaslAuthenticate requests (librdkafka, Java). A refusal is answered after
 * connection.failed.authentication.delay.ms (longer for an address that keeps failing) and
 * the connection closed. Once authenticated, the connection hands its frames straight to
 * the router: the hot path is untouched.
 */
export class SaslAuthenticator implements FrameSink {
  private mechanism: Mechanism | null = null;
  private mechanismName = '';
  private handshakeVersion = -1;
  private failed = false;

  constructor(
    private readonly router: FrameSink,
    private readonly listener: ListenerSecurity,
    private readonly security: SecurityManager,
    private readonly maxRequestBytes: number,
    private readonly logger: BrokerLogger,
  ) {}

  onFrame(frame: Buffer, connection: Connection): Buffer[] | null | Promise<Buffer[] | null> {
    if (this.failed) return null;
    if (this.mechanism !== null && this.handshakeVersion === 0) return this.rawToken(frame, connection);
    const r = new Reader(frame);
    const header = decodeRequestHeader(r);
    switch (header.apiKey) {
      case ApiVersions.apiKey:
        return this.router.onFrame(frame, connection);
      case SaslHandshake.apiKey:
        return this.handshake(header, r, connection);
      case SaslAuthenticate.apiKey:
        return this.authenticate(header, r, connection);
      default:
        throw new KafkaProtocolError(
          ErrorCode.ILLEGAL_SASL_STATE,
          `unexpected ${apiByKey(header.apiKey)?.name ?? `API ${header.apiKey}`} request before SASL authentication`,
        );
    }
  }

  onProtocolViolation(reason: string, connection: Connection): void {
    this.router.onProtocolViolation(reason, connection);
  }

  private body(api: ApiDefinition, header: RequestHeader, r: Reader): Record<string, unknown> {
    const range = parseVersions(api.versions);
    if (header.apiVersion < range.min || header.apiVersion > range.max)
      throw new KafkaProtocolError(ErrorCode.UNSUPPORTED_VERSION, `${api.name} v${header.apiVersion}`);
    return decodeRequestBody(api, header.apiVersion, r);
  }

  private handshake(header: RequestHeader, r: Reader, connection: Connection): Buffer[] {
    const request = this.body(SaslHandshake, header, r) as { mechanism: string };
    const mechanisms = [...this.listener.saslMechanisms];
    const answer = (errorCode: number) =>
      encodeResponse(SaslHandshake, header.apiVersion, header.correlationId, { errorCode, mechanisms });
    if (this.mechanism !== null) {
      this.failed = true;
      setImmediate(() => connection.end());
      return answer(ErrorCode.ILLEGAL_SASL_STATE);
    }
    const name = request.mechanism;
    if (!mechanisms.includes(name as (typeof mechanisms)[number])) {
      this.failed = true;
      setImmediate(() => connection.end());
      return answer(ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    }
    this.mechanismName = name;
    this.mechanism = isScramMechanism(name)
      ? scramMechanism(this.security, name)
      : plainMechanism(this.security);
    this.handshakeVersion = header.apiVersion;
    return answer(ErrorCode.NONE);
  }

  private authenticate(
    header: RequestHeader,
    r: Reader,
    connection: Connection,
  ): Buffer[] | Promise<Buffer[]> {
    const request = this.body(SaslAuthenticate, header, r) as { authBytes: Buffer };
    const respond = (body: object) =>
      encodeResponse(SaslAuthenticate, header.apiVersion, header.correlationId, body);
    const mechanism = this.mechanism;
    if (mechanism === null || this.handshakeVersion < 1) {
      this.failed = true;
      setImmediate(() => connection.end());
      return respond({
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: 'Unexpected SaslAuthenticate request: no SaslHandshake v1 before it',
        authBytes: Buffer.alloc(0),
        sessionLifetimeMs: 0,
      });
    }
    try {
      const token = mechanism.evaluate(request.authBytes);
      if (mechanism.complete) this.succeeded(mechanism.user, connection);
      return respond({
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        authBytes: token,
        sessionLifetimeMs: 0,
      });
    } catch (err) {
      const message = err instanceof AuthenticationFailed ? err.message : 'Authentication failed';
      return this.refuse(connection, message, () =>
        respond({
          errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
          errorMessage: message,
          authBytes: Buffer.alloc(0),
          sessionLifetimeMs: 0,
        }),
      );
    }
  }

  /** After a v0 handshake: the frame is a SASL token, the answer a length-prefixed token. */
  private rawToken(frame: Buffer, connection: Connection): Buffer[] | Promise<null> {
    const mechanism = this.mechanism as Mechanism;
    try {
      const token = mechanism.evaluate(frame);
      if (mechanism.complete) this.succeeded(mechanism.user, connection);
      const size = Buffer.alloc(4);
      size.writeInt32BE(token.length);
      return [size, token];
    } catch (err) {
      // Raw tokens have no error field: the connection is closed, as Kafka does.
      return this.refuse(
        connection,
        err instanceof AuthenticationFailed ? err.message : 'Authentication failed',
        () => null,
      );
    }
  }

  private succeeded(user: string, connection: Connection): void {
    connection.session.authenticated(userPrincipal(user));
    this.security.authenticationSucceeded(connection.session.host);
    connection.authenticated(this.router, this.maxRequestBytes);
  }

  private refuse<T>(connection: Connection, message: string, answer: () => T): Promise<T> {
    this.failed = true;
    const host = connection.session.host;
    // Neither the user name nor anything the client sent is logged: either may be a mistyped password.
    this.logger.warn(
      `failed authentication with ${host} on listener ${this.listener.name} (${this.mechanismName}): ${message}`,
    );
    const delay = this.security.failureDelay(host);
    return new Promise((resolve) =>
      setTimeout(() => {
        setImmediate(() => connection.end());
        resolve(answer());
      }, delay),
    );
  }
}
