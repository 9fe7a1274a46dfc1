import net from 'node:net';

/**
 * A TCP proxy in front of a broker that can cut a connection right after forwarding a chosen
 * request, dropping the broker's answer: the client sees its request in flight and the
 * connection gone, as after a network failure, while the broker has applied the request.
 */
export class CuttingProxy {
  private server: net.Server | null = null;
  private cutsLeft = 0;
  private apiKeyToCut = -1;
  private everyNth = 1;
  private seen = 0;
  readonly cuts: number[] = [];

  constructor(private readonly target: { host: string; port: number }) {}

  /** Cuts `count` connections, each right after every `nth` request of `apiKey` passes through. */
  arm(apiKey: number, count: number, nth = 1): void {
    this.apiKeyToCut = apiKey;
    this.cutsLeft = count;
    this.everyNth = nth;
    this.seen = 0;
  }

  async listen(port = 0): Promise<number> {
    const server = net.createServer((client) => this.pipe(client));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    return (server.address() as net.AddressInfo).port;
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.target);
    let dropAnswers = false;
    let pending = Buffer.alloc(0);
    client.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0);
        const frame = pending.subarray(0, 4 + size);
        pending = pending.subarray(4 + size);
        upstream.write(frame);
        const apiKey = frame.readInt16BE(4);
        if (apiKey === this.apiKeyToCut && this.cutsLeft > 0 && ++this.seen % this.everyNth === 0) {
          this.cutsLeft--;
          this.cuts.push(frame.readInt32BE(8));
          dropAnswers = true;
          // Give the broker time to apply the request, then cut both sides.
          setTimeout(() => {
            client.destroy();
            upstream.destroy();
          }, 150);
          return;
        }
      }
    });
    upstream.on('data', (data: Buffer) => {
      if (!dropAnswers) client.write(data);
    });
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
