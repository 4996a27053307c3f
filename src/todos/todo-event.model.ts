import { type InferSchemaType, Schema, type Types, model } from 'mongoose';

/** How long an event stays readable by other instances; the TTL monitor removes it later. */
export const EVENT_RETENTION_SECONDS = 120;

/**
 * One todo change, written by the instance that made it and read by every other instance
 * that has subscribers (see `TodoEvents`). Short-lived: a TTL index removes it.
 */
const todoEventSchema = new Schema(
  {
    kind: { type: String, enum: ['CREATED', 'UPDATED', 'DELETED'], required: true },
    todo: { type: Schema.Types.ObjectId, required: true },
    owner: { type: Schema.Types.ObjectId, required: true },
    /** The todo after the change; null for DELETED. */
    title: { type: String, default: null },
    completed: { type: Boolean, default: null },
    createdAt: { type: Date, default: null },
    updatedAt: { type: Date, default: null },
    /** When the writing instance recorded it (its clock); readers allow for skew. */
    at: { type: Date, required: true },
    /** The writing instance, which has delivered the event to its own subscribers already. */
    origin: { type: String, required: true },
  },
  { versionKey: false, strict: 'throw', timestamps: false },
);

todoEventSchema.index({ at: 1 }, { expireAfterSeconds: EVENT_RETENTION_SECONDS });

export type TodoEventRecord = InferSchemaType<typeof todoEventSchema> & { _id: Types.ObjectId };
export const TodoEventModel = model('TodoEvent', todoEventSchema);
