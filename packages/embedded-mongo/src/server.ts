import { createServer, type Server, type Socket } from 'node:net';

import { type ServerState } from './commands/context';
import { ClientConnection, type ConnectionLimits } from './connection';
import { CursorRegistry } from './cursors';
import { Catalog } from './storage/catalog';
import { DbpathInUseError, Journal } from './storage/journal';
import { DEFAULT_TTL_MONITOR_INTERVAL_MS, startTtlMonitor } from './ttl-monitor';

export interface EmbeddedServerOptions {
  /** TCP port; 0 picks a free one. Default 27017. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1: the server has no authentication. */
  host?: string;
  /** Period of the TTL monitor. Default 60000, like mongod. */
  ttlMonitorIntervalMs?: number;
  /**
   * Directory of the journal (mongod's `--dbpath`): data survives restarts and `kill -9`.
   * Unset: everything stays in memory.
   */
  dbpath?: string;
  /** Compact the journal once it is this large (and twice its last snapshot). Default 64 MB. */
  compactMinBytes?: number;
  /** Connections beyond this many are closed on arrival. Default 1000. */
  maxConnections?: number;
  /** Bytes of half-received messages held across all connections. Default 256 MB. */
  maxBufferedBytes?: number;
  /** A half-received message idle this long closes its connection. Default 30000. */
  halfSentMessageTimeoutMs?: number;
}

const CURSOR_SWEEP_INTERVAL_MS = 60_000;
/**
 * How long a start waits for another process to release the dbpath: `npm run dev` restarts the
 * API, whose previous database child may still be closing its journal.
 */
const LOCK_WAIT_MS = 5_000;

/** An in-memory MongoDB-compatible server listening on TCP. */
export class EmbeddedMongoServer {
  readonly catalog = new Catalog();
  readonly cursors = new CursorRegistry();
  private readonly sockets = new Set<Socket>();
  private readonly tcp: Server;
  private readonly host: string;
  private readonly requestedPort: number;
  private readonly ttlIntervalMs: number;
  private boundPort = 0;
  private connectionsCreated = 0;
  private readonly startedAt = Date.now();
  private stopTimers: (() => void)[] = [];
  private journal: Journal | undefined;
  private readonly dbpath: string | undefined;
  private readonly compactMinBytes: number | undefined;
  private readonly maxConnections: number;
  private readonly limits: ConnectionLimits;

  constructor(options: EmbeddedServerOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.requestedPort = options.port ?? 27017;
    this.ttlIntervalMs = options.ttlMonitorIntervalMs ?? DEFAULT_TTL_MONITOR_INTERVAL_MS;
    this.dbpath = options.dbpath;
    this.compactMinBytes = options.compactMinBytes;
    this.maxConnections = options.maxConnections ?? 1000;
    this.limits = {
      maxBufferedBytes: options.maxBufferedBytes ?? 256 * 1024 * 1024,
      halfSentTimeoutMs: options.halfSentMessageTimeoutMs ?? 30_000,
      usage: { buffered: 0 },
    };
    this.tcp = createServer((socket) => this.accept(socket));
  }

  get port(): number {
    return this.boundPort;
  }

  get uri(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `mongodb://${host}:${this.boundPort}/`;
  }

  private state(): ServerState {
    return {
      startedAt: this.startedAt,
      host: this.host,
      port: this.boundPort,
      openConnections: () => this.sockets.size,
      totalConnections: () => this.connectionsCreated,
    };
  }

  private accept(socket: Socket): void {
    if (this.sockets.size >= this.maxConnections) {
      // As mongod past maxIncomingConnections: the newcomer is closed, everyone else is served.
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    this.connectionsCreated++;
    const journal = this.journal;
    new ClientConnection(
      socket,
      {
        catalog: this.catalog,
        cursors: this.cursors,
        server: this.state(),
        connection: {
          id: this.connectionsCreated,
          remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`,
        },
      },
      journal ? (reply) => journal.whenDurable(reply) : (reply) => reply(),
      this.limits,
    );
  }

  async listen(): Promise<void> {
    if (this.dbpath !== undefined) {
      const giveUpAt = Date.now() + LOCK_WAIT_MS;
      for (;;) {
        try {
          this.journal = Journal.open(this.dbpath, this.catalog, {
            compactMinBytes: this.compactMinBytes,
          });
          break;
        } catch (err) {
          const otherProcess = err instanceof DbpathInUseError && !err.sameProcess;
          if (!otherProcess || Date.now() > giveUpAt) throw err;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        void this.journal?.close();
        reject(err);
      };
      this.tcp.once('error', onError);
      this.tcp.listen(this.requestedPort, this.host, () => {
        this.tcp.off('error', onError);
        resolve();
      });
    });
    const address = this.tcp.address();
    this.boundPort = typeof address === 'object' && address ? address.port : this.requestedPort;
    this.stopTimers.push(startTtlMonitor(this.catalog, this.ttlIntervalMs));
    const sweep = setInterval(() => this.cursors.sweep(Date.now()), CURSOR_SWEEP_INTERVAL_MS);
    sweep.unref();
    this.stopTimers.push(() => clearInterval(sweep));
  }

  /** Stops listening, drops every client connection; data is forgotten unless kept in a dbpath. */
  async stop(): Promise<void> {
    for (const stop of this.stopTimers) stop();
    this.stopTimers = [];
    const closed = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.cursors.clear();
    await this.journal?.close();
    this.journal = undefined;
  }
}
