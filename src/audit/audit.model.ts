import { type InferSchemaType, Schema, type Types, model } from 'mongoose';

export const AUDIT_EVENT_TYPES = [
  'LOGIN_SUCCEEDED',
  'LOGIN_FAILED',
  'LOGIN_THROTTLED',
  'REFRESH_REUSE_DETECTED',
  'LOGOUT',
  'LOGOUT_ALL',
  'SESSION_REVOKED',
  'PASSWORD_CHANGED',
  'ROLE_CHANGED',
  'USER_DELETED',
  'USER_REGISTERED',
  'LOGIN_REFUSED_UNVERIFIED',
  'SIGNUP_EXISTING_EMAIL',
  'VERIFICATION_EMAIL_SENT',
  'EMAIL_VERIFIED',
  'PASSWORD_RESET_REQUESTED',
  'PASSWORD_RESET',
  'EMAIL_CHANGE_REQUESTED',
  'EMAIL_CHANGED',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

const auditEventSchema = new Schema(
  {
    type: { type: String, enum: AUDIT_EVENT_TYPES, required: true },
    /** The account the event is about (absent for a login attempt on an unknown email). */
    userId: { type: Schema.Types.ObjectId, default: null },
    /** Who did it, when it is someone else (an admin changing a role). */
    actorId: { type: Schema.Types.ObjectId, default: null },
    ip: { type: String, default: null },
    userAgent: { type: String, default: null },
    requestId: { type: String, default: null },
    details: { type: Schema.Types.Mixed, default: null },
    /** Removed by the TTL index once AUDIT_RETENTION has passed. */
    expiresAt: { type: Date, required: true },
  },
  {
    timestamps: { createdAt: true, updatedAt: false },
    versionKey: false,
    collection: 'auditEvents',
  },
);

auditEventSchema.index({ createdAt: -1, _id: -1 });
auditEventSchema.index({ userId: 1, createdAt: -1, _id: -1 });
auditEventSchema.index({ type: 1, createdAt: -1, _id: -1 });
auditEventSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export type AuditEventRecord = InferSchemaType<typeof auditEventSchema> & {
  _id: Types.ObjectId;
  createdAt: Date;
};
export const AuditEventModel = model('AuditEvent', auditEventSchema);
