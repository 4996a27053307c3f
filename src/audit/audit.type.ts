import { JSONObjectResolver } from 'graphql-scalars';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { connectionTypes } from '../common/connection.type';
import { AUDIT_EVENT_TYPES, type AuditEventRecord, type AuditEventType } from './audit.model';

export const AuditEventTypeEnum = Object.fromEntries(AUDIT_EVENT_TYPES.map((type) => [type, type]));

registerEnumType(AuditEventTypeEnum, {
  name: 'AuditEventType',
  description: 'Kinds of security event the API records.',
});

@ObjectType('AuditEvent', { simpleResolvers: true, description: 'A recorded security event.' })
export class AuditEventView {
  @Field(() => ID, { description: 'Stable identifier.' })
  id!: string;

  @Field(() => AuditEventTypeEnum, { description: 'What happened.' })
  type!: AuditEventType;

  @Field(() => ID, { nullable: true, description: 'The account concerned, when known.' })
  userId!: string | null;

  @Field(() => ID, { nullable: true, description: 'Who acted, when not the account itself.' })
  actorId!: string | null;

  @Field(() => String, { nullable: true, description: 'Client address as the API saw it.' })
  ip!: string | null;

  @Field(() => String, { nullable: true, description: 'Client User-Agent header.' })
  userAgent!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Request id the server gave the request, to find the log lines.',
  })
  requestId!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The caller's own X-Request-Id, as sent (clipped); not verified.",
  })
  clientRequestId!: string | null;

  @Field(() => JSONObjectResolver, { nullable: true, description: 'Event-specific facts.' })
  details!: Record<string, unknown> | null;

  @Field({ description: 'When it happened.' })
  createdAt!: Date;
}

export const { Connection: AuditEventConnection } = connectionTypes(AuditEventView, 'AuditEvent');

export function toAuditEventView(record: AuditEventRecord): AuditEventView {
  return {
    id: record._id.toHexString(),
    type: record.type,
    userId: record.userId?.toHexString() ?? null,
    actorId: record.actorId?.toHexString() ?? null,
    ip: record.ip ?? null,
    userAgent: record.userAgent ?? null,
    requestId: record.requestId ?? null,
    clientRequestId: record.clientRequestId ?? null,
    details: (record.details as Record<string, unknown> | null) ?? null,
    createdAt: record.createdAt,
  };
}
