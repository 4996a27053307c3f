import { type Logger } from 'pino';
import { SocketCloseReason } from '../common/errors';
import { type SessionHolder, type SessionService } from '../auth/session.service';
import { type Role } from '../users/role';

/** What an open socket was authenticated as, and how to end it. */
export interface LiveSocket {
  userId: string;
  sessionId: string;
  credentialVersion: number;
  role: Role;
  /** The access token's `exp` (seconds since the epoch). */
  expiresAt: number;
  close(reason: SocketCloseReason): void;
}

/**
 * The session is alive and its user is the one the socket was opened as, with the same
 * credentials and role (a role change bumps the credential version too; the role is compared
 * as well so that an admin-only stream never outlives the role, whatever changed it).
 */
function isHeldBy(
  socket: Omit<LiveSocket, 'close' | 'expiresAt'>,
  holder: SessionHolder | undefined,
): boolean {
  return (
    holder !== undefined &&
    holder.userId === socket.userId &&
    holder.credentialVersion === socket.credentialVersion &&
    holder.role === socket.role
  );
}

/** setTimeout's longest delay (about 24.8 days); a later expiry is re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Keeps every authenticated socket of this instance honest: each ends at its token's `exp`
 * (4401), and once per AUTH_REVALIDATE_SECONDS one read re-checks the sessions and users of
 * all of them together, ending (4403) those whose session was revoked or expired, or whose
 * user was deleted or had a credential event (logoutAll, password, role or email change).
 * Every instance does this for its own sockets, so revocation through any instance reaches
 * them all within that bound, with nothing shared but the database.
 */
export class LiveSockets {
  private readonly sockets = new Map<LiveSocket, NodeJS.Timeout>();
  private interval: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly sessions: SessionService,
    private readonly revalidateMs: number,
    private readonly clockToleranceSeconds: number,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.sockets.size;
  }

  /** Starts watching a socket; the returned function stops (call it when the socket closes). */
  add(socket: LiveSocket): () => void {
    this.sockets.set(socket, this.expiryTimer(socket));
    this.interval ??= setInterval(() => void this.revalidate(), this.revalidateMs).unref();
    return () => this.remove(socket);
  }

  /** Whether the socket's session is alive and its user unchanged (one read). */
  async isCurrent(socket: Omit<LiveSocket, 'close' | 'expiresAt'>): Promise<boolean> {
    const holders = await this.sessions.holders([socket.sessionId]);
    return isHeldBy(socket, holders.get(socket.sessionId));
  }

  /** One read for every open socket; ends those whose caller is no longer what it was. */
  async revalidate(): Promise<void> {
    // A read slower than the interval must not pile up behind itself.
    if (this.checking || this.sockets.size === 0) return;
    this.checking = true;
    try {
      const sockets = [...this.sockets.keys()];
      const holders = await this.sessions.holders(sockets.map((socket) => socket.sessionId));
      for (const socket of sockets) {
        if (!this.sockets.has(socket)) continue;
        if (!isHeldBy(socket, holders.get(socket.sessionId))) {
          this.end(socket, SocketCloseReason.REVOKED);
        }
      }
    } catch (error) {
      // Sockets stay open while the database cannot answer, as HTTP requests would fail.
      this.logger.warn({ err: error }, 'could not re-check open sockets');
    } finally {
      this.checking = false;
    }
  }

  /** Stops every timer (shutdown; the sockets themselves are closed by their server). */
  stop(): void {
    for (const timer of this.sockets.values()) clearTimeout(timer);
    this.sockets.clear();
    if (this.interval) clearInterval(this.interval);
    this.interval = undefined;
  }

  private expiryTimer(socket: LiveSocket): NodeJS.Timeout {
    // Honoured as long as HTTP honours it: until exp plus the allowed clock skew.
    const delay = (socket.expiresAt + this.clockToleranceSeconds) * 1000 - Date.now();
    return setTimeout(
      () => {
        if (delay > MAX_TIMER_MS) this.sockets.set(socket, this.expiryTimer(socket));
        else this.end(socket, SocketCloseReason.TOKEN_EXPIRED);
      },
      Math.min(Math.max(delay, 0), MAX_TIMER_MS),
    ).unref();
  }

  private end(socket: LiveSocket, reason: SocketCloseReason): void {
    this.remove(socket);
    socket.close(reason);
  }

  private remove(socket: LiveSocket): void {
    const timer = this.sockets.get(socket);
    if (timer) clearTimeout(timer);
    this.sockets.delete(socket);
    if (this.sockets.size === 0 && this.interval) {
      clearInterval(this.interval);
      this.interval = undefined;
    }
  }
}
