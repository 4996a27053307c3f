import { mongo } from 'mongoose';

/** A write refused by a unique index: the database, not a prior lookup, decides races. */
export const isDuplicateKey = (error: unknown): boolean =>
  error instanceof mongo.MongoServerError && error.code === 11000;
