import net from 'node:net';

/**
 * How a cut link fails: `drop` resets its connections and refuses new ones at once (a host
 * that answers with RST); `hang` lets bytes in and holds them until the cut heals, then
 * delivers them late (packets lost and retransmitted: the peers see silence, then timeouts).
 */
export type CutMode = 'drop' | 'hang';

/** A peer as the proxy names it: the Kafka client id of a connection's first request, or '*'. */
export type PeerMatcher = (peer: string) => boolean;

interface Link {
  readonly client: net.Socket;
  readonly upstream: net.Socket;
  /** null until the first request's header arrived (Kafka links). */
  peer: string | null;
  hung: boolean;
  toUpstream: Buffer[];
  toClient: Buffer[];
}

/** The client id of a Kafka request header (v1+: apiKey, apiVersion, correlationId, client_id), or null while incomplete. */
export function kafkaClientId(frame: Buffer): string | null {
  if (frame.length < 14) return null;
  const length = frame.readInt16BE(12);
  if (length < 0) return '';
  if (frame.length < 14 + length) return null;
  return frame.toString('utf8', 14, 14 + length);
}

/**
 * A TCP proxy on 127.0.0.1 in front of one endpoint (a broker's listener, a Redis) that can
 * cut the link between that endpoint and chosen peers, as a network partition would, with
 * neither root nor network namespaces. Kafka peers are told apart by client id (a broker's
 * replica fetcher is `broker-<id>-fetcher-<leader>`), so one proxy per broker partitions any
 * pair of brokers. The endpoint's port is asked for each new connection: a restarted process
 * may listen elsewhere while its proxy, which everyone was given, stays put.
 */
export class LinkProxy {
  private server: net.Server | null = null;
  private readonly links = new Set<Link>();
  private readonly cuts = new Map<number, { matches: PeerMatcher; mode: CutMode }>();
  private nextCut = 1;
  port = 0;

  constructor(
    readonly name: string,
    private readonly target: () => number | null,
    private readonly kafka: boolean,
  ) {}

  async listen(): Promise<number> {
    const server = net.createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Cuts the links to the peers `matches` accepts until the returned function heals them. */
  cut(matches: PeerMatcher, mode: CutMode): () => void {
    const id = this.nextCut++;
    this.cuts.set(id, { matches, mode });
    for (const l of this.links) this.apply(l);
    return () => {
      this.cuts.delete(id);
      for (const l of this.links) this.apply(l);
    };
  }

  /** Heals every cut. */
  healAll(): void {
    this.cuts.clear();
    for (const l of this.links) this.apply(l);
  }

  private modeFor(peer: string): CutMode | null {
    let mode: CutMode | null = null;
    for (const c of this.cuts.values()) {
      if (!c.matches(peer)) continue;
      if (c.mode === 'drop') return 'drop';
      mode = 'hang';
    }
    return mode;
  }

  private apply(l: Link): void {
    if (l.peer === null) return;
    const mode = this.modeFor(l.peer);
    if (mode === 'drop') {
      l.client.destroy();
      l.upstream.destroy();
      return;
    }
    l.hung = mode === 'hang';
    this.pump(l);
  }

  private pump(l: Link): void {
    if (l.hung || l.peer === null) return;
    for (const d of l.toUpstream.splice(0)) l.upstream.write(d);
    for (const d of l.toClient.splice(0)) l.client.write(d);
  }

  private accept(client: net.Socket): void {
    const port = this.target();
    if (port === null) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port });
    const link: Link = {
      client,
      upstream,
      peer: this.kafka ? null : '*',
      hung: false,
      toUpstream: [],
      toClient: [],
    };
    this.links.add(link);
    client.on('data', (d: Buffer) => {
      link.toUpstream.push(d);
      if (link.peer === null) {
        link.peer = kafkaClientId(Buffer.concat(link.toUpstream));
        if (link.peer !== null) this.apply(link);
      } else this.pump(link);
    });
    upstream.on('data', (d: Buffer) => {
      link.toClient.push(d);
      this.pump(link);
    });
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      this.links.delete(link);
    };
    for (const s of [client, upstream]) {
      s.on('error', close);
      s.on('close', close);
    }
    this.apply(link);
  }

  async close(): Promise<void> {
    for (const l of this.links) {
      l.client.destroy();
      l.upstream.destroy();
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
