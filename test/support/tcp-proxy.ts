import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './ports.ts';

/**
 * A TCP proxy in front of a shared server (PostgreSQL) that one test can take down for its own clients
 * only: `cut()` drops every open connection and refuses new ones (closed as soon as accepted, as a
 * server going down looks to a client), `restore()` lets connections through again; `latencyMs` slows
 * every chunk down.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private down = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const port = await freePort();
    const server = createServer();
    const proxy = new TcpProxy(server, port);
    server.on('connection', (client) => proxy.relay(client, targetHost, targetPort));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return proxy;
  }

  get isDown(): boolean {
    return this.down;
  }

  private relay(client: Socket, targetHost: string, targetPort: number): void {
    if (this.down) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      // Either side failing ends both; the client sees a dropped connection, as with a crashed server.
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    this.forward(client, upstream);
    this.forward(upstream, client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  /** Each chunk, either way, waits `latencyMs` (in order): a database far away, for every connection. */
  latencyMs = 0;

  private forward(from: Socket, to: Socket): void {
    const later = (step: () => void) => {
      if (this.latencyMs > 0) setTimeout(step, this.latencyMs);
      else step();
    };
    from.on('data', (chunk: Buffer) => later(() => to.writable && to.write(chunk)));
    from.on('end', () => later(() => to.end()));
  }

  cut(): void {
    this.down = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.down = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
