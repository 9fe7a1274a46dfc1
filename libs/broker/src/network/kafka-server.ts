import net from 'node:net';
import tls from 'node:tls';
import type { BrokerLogger } from '../broker-context';
import type { ListenerSecurity, TlsServerSettings } from '../config/security-config';
import { distinguishedName, userPrincipal, type PrincipalMapper } from '../security/principal';
import { SaslAuthenticator } from '../security/sasl-authenticator';
import type { SecurityManager } from '../security/security-manager';
import { Session } from '../security/session';
import { Connection, FrameSink } from './connection';

export interface ListenAddress {
  host: string;
  port: number;
  /** The listener's name (PLAINTEXT, SASL_SSL, INTERNAL, ...). */
  name?: string;
}

/** A listener's security: its protocol and TLS material, and what authenticates its clients. */
export interface ListenerOptions {
  readonly security: ListenerSecurity;
  readonly manager: SecurityManager;
  readonly principalMapper: PrincipalMapper;
  readonly saslServerMaxReceiveSize: number;
  readonly logger: BrokerLogger;
}

/**
 * One Kafka listener: plain node:net, or node:tls for SSL and SASL_SSL; no framework on this
 * path. Each connection gets a Session (listener, client address, principal). On SASL
 * listeners a connection's frames go through a SaslAuthenticator until it authenticates,
 * then straight to the router, as on a PLAINTEXT listener.
 */
export class KafkaServer {
  private server: net.Server | null = null;
  private readonly connections = new Set<Connection>();

  constructor(
    private readonly sink: FrameSink,
    private readonly maxRequestBytes: number,
    private listener?: ListenerOptions,
  ) {}

  async listen(address: ListenAddress): Promise<ListenAddress> {
    const l = this.listener;
    const t = l?.security.tls ?? null;
    let server: net.Server;
    if (l !== undefined && t !== null) {
      server = tls.createServer({ ...secureContextOptions(t), ...clientAuthOptions(t) }, (socket) =>
        this.accept(socket),
      );
      server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) =>
        l.logger.warn(
          `SSL handshake with ${clientHost(socket)} on listener ${l.security.name} failed: ${err.message}`,
        ),
      );
    } else {
      server = net.createServer((socket) => this.accept(socket));
    }
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address() as net.AddressInfo;
    return { host: address.host, port: bound.port, name: address.name };
  }

  private accept(socket: net.Socket): void {
    const l = this.listener;
    const session = new Session(l?.security.name ?? 'PLAINTEXT', clientHost(socket));
    let sink = this.sink;
    let maxBytes = this.maxRequestBytes;
    if (l !== undefined) {
      if (socket instanceof tls.TLSSocket && !this.certificatePrincipal(socket, session, l)) return;
      if (l.security.saslMechanisms.length > 0) {
        sink = new SaslAuthenticator(this.sink, l.security, l.manager, this.maxRequestBytes, l.logger);
        maxBytes = l.saslServerMaxReceiveSize;
      }
    }
    const connection = new Connection(socket, sink, maxBytes, session);
    this.connections.add(connection);
    socket.on('close', () => this.connections.delete(connection));
  }

  /**
   * An SSL client's principal is its certificate's distinguished name, mapped by
   * ssl.principal.mapping.rules; without a certificate (requested or none) it stays
   * ANONYMOUS. A certificate the CA did not sign, or no rule maps, is refused.
   */
  private certificatePrincipal(socket: tls.TLSSocket, session: Session, l: ListenerOptions): boolean {
    const cert = socket.getPeerCertificate();
    if (cert === null || Object.keys(cert).length === 0) return true;
    const refuse = (why: string): false => {
      l.logger.warn(`refusing ${session.host} on listener ${l.security.name}: ${why}`);
      socket.destroy();
      return false;
    };
    if (!socket.authorized)
      return refuse(`its certificate is not trusted (${String(socket.authorizationError)})`);
    if (l.security.saslMechanisms.length > 0) return true;
    const name = l.principalMapper(distinguishedName(cert));
    if (name === null) return refuse('no ssl.principal.mapping.rules rule matches its certificate');
    session.authenticated(userPrincipal(name));
    return true;
  }

  /**
   * New security settings for this listener (dynamic broker configs): new connections are
   * served with the new certificate, CA and TLS settings; open connections keep theirs.
   */
  reconfigure(security: ListenerSecurity): void {
    if (this.listener === undefined) return;
    this.listener = { ...this.listener, security };
    const server = this.server;
    if (!(server instanceof tls.Server) || security.tls === null) return;
    server.setSecureContext(secureContextOptions(security.tls));
    // setSecureContext leaves these; Node reads them from the server for each new connection.
    Object.assign(server, clientAuthOptions(security.tls));
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops accepting, answers what is in flight, then closes every connection. */
  async close(drainTimeoutMs = 5000): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...this.connections].map((c) => c.drain(drainTimeoutMs)));
    for (const c of this.connections) c.close();
    await closed;
  }
}

function clientHost(socket: net.Socket): string {
  return (socket.remoteAddress ?? 'unknown').replace(/^::ffff:/, '');
}

function secureContextOptions(t: TlsServerSettings): tls.SecureContextOptions {
  return {
    key: t.key,
    cert: t.cert,
    ca: t.ca ?? undefined,
    passphrase: t.passphrase,
    minVersion: t.minVersion,
    maxVersion: t.maxVersion,
    ciphers: t.ciphers,
  };
}

function clientAuthOptions(t: TlsServerSettings): { requestCert: boolean; rejectUnauthorized: boolean } {
  return { requestCert: t.clientAuth !== 'none', rejectUnauthorized: t.clientAuth === 'required' };
}
