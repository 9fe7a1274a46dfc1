import net from 'node:net';
import { Connection, FrameSink } from './connection';

export interface ListenAddress {
  host: string;
  port: number;
}

/** The Kafka listener: plain node:net, no framework on this path. */
export class KafkaServer {
  private server: net.Server | null = null;
  private readonly connections = new Set<Connection>();

  constructor(
    private readonly sink: FrameSink,
    private readonly maxRequestBytes: number,
  ) {}

  async listen(address: ListenAddress): Promise<ListenAddress> {
    const server = net.createServer((socket) => {
      const connection = new Connection(socket, this.sink, this.maxRequestBytes);
      this.connections.add(connection);
      socket.on('close', () => this.connections.delete(connection));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address() as net.AddressInfo;
    return { host: address.host, port: bound.port };
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
