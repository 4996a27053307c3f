import { type Logger } from 'pino';
import { type Types } from 'mongoose';
import { type Connection, type PageRequest, paginate } from '../common/pagination';
import { CLIENT_REQUEST_ID_MAX, IP_MAX, USER_AGENT_MAX, clip } from '../common/clip';
import { type RequestMeta } from '../common/request-meta';
import { AuditEventModel, type AuditEventRecord, type AuditEventType } from './audit.model';
import { type AuditEventView, toAuditEventView } from './audit.type';

export interface AuditEntry {
  type: AuditEventType;
  userId?: Types.ObjectId | string | null;
  actorId?: Types.ObjectId | string | null;
  details?: Record<string, string | number | boolean>;
}

export interface AuditFilter {
  userId?: Types.ObjectId;
  type?: AuditEventType;
}

/** Security events: one document each (kept AUDIT_RETENTION) and one log line each. */
export class AuditService {
  constructor(
    private readonly retentionSeconds: number,
    private readonly logger: Logger,
  ) {}

  async record(entry: AuditEntry, meta: RequestMeta): Promise<void> {
    const userId = entry.userId?.toString() ?? null;
    const actorId = entry.actorId?.toString() ?? null;
    this.logger.info(
      {
        event: entry.type,
        userId,
        actorId,
        requestId: meta.requestId,
        clientRequestId: meta.clientRequestId,
        ip: meta.ip,
        ...entry.details,
      },
      'security event',
    );
    await AuditEventModel.create({
      type: entry.type,
      userId,
      actorId,
      details: entry.details ?? null,
      ip: clip(meta.ip, IP_MAX),
      userAgent: clip(meta.userAgent, USER_AGENT_MAX),
      requestId: meta.requestId,
      clientRequestId: clip(meta.clientRequestId, CLIENT_REQUEST_ID_MAX),
      expiresAt: new Date(Date.now() + this.retentionSeconds * 1000),
    });
  }

  list(filter: AuditFilter, page: PageRequest): Promise<Connection<AuditEventView>> {
    const match: Record<string, unknown> = {};
    if (filter.userId) match.userId = filter.userId;
    if (filter.type) match.type = filter.type;
    return paginate<AuditEventRecord, AuditEventView>(
      AuditEventModel,
      match,
      page,
      toAuditEventView,
    );
  }
}
