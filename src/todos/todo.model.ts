import { type InferSchemaType, Schema, type Types, model } from 'mongoose';

const todoSchema = new Schema(
  {
    title: { type: String, required: true },
    completed: { type: Boolean, required: true, default: false },
    owner: { type: Schema.Types.ObjectId, ref: 'User', required: true },
  },
  { timestamps: true, versionKey: false, strict: 'throw' },
);

// A user's todos, newest first, filtered or not by `completed`: one index serves both.
todoSchema.index({ owner: 1, createdAt: -1, _id: -1 });
// Everyone's todos, newest first (admin listing).
todoSchema.index({ createdAt: -1, _id: -1 });

export type TodoRecord = InferSchemaType<typeof todoSchema> & { _id: Types.ObjectId };
export const TodoModel = model('Todo', todoSchema);
