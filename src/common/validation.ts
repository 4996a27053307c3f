import { Types } from 'mongoose';
import { z } from 'zod';
import { BadUserInputError } from './errors';

/**
 * Input rules of the contract, as zod schemas, and one function that turns the first
 * violation into a BAD_USER_INPUT error naming the field.
 */

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;
export const EMAIL_MAX = 254;
export const PAGE_SIZE_MAX = 100;

/**
 * One canonical form for every email the API stores or compares: trimmed, NFKC-normalised
 * (full-width and other compatibility forms fold to ASCII) and lower-cased. Validation then
 * accepts ASCII only, so look-alikes such as a dotless "ı" or a Cyrillic "а" cannot make a
 * second account that reads like an existing one.
 */
export function canonicalEmail(raw: string): string {
  return raw.trim().normalize('NFKC').toLowerCase();
}

const codePoints = (value: string) => [...value].length;

export const emailSchema = z
  .string()
  .transform(canonicalEmail)
  .pipe(z.string().max(EMAIL_MAX, 'Email is too long').email('Enter a valid email address'));

/** Passwords are NFKC-normalised (NIST SP 800-63B §5.1.1.2) and never trimmed or truncated. */
export const passwordSchema = z
  .string()
  .transform((value) => value.normalize('NFKC'))
  .refine((value) => codePoints(value) >= PASSWORD_MIN, {
    message: `Password must have at least ${PASSWORD_MIN} characters`,
  })
  .refine((value) => codePoints(value) <= PASSWORD_MAX, {
    message: `Password may have at most ${PASSWORD_MAX} characters`,
  });

export const nameSchema = z
  .string()
  .transform((value) => value.trim())
  .pipe(
    z.string().min(1, 'Name must not be empty').max(100, 'Name may have at most 100 characters'),
  );

export const titleSchema = z
  .string()
  .transform((value) => value.trim())
  .pipe(
    z.string().min(1, 'Title must not be empty').max(200, 'Title may have at most 200 characters'),
  );

const PAGE_SIZE_MESSAGE = `first must be between 1 and ${PAGE_SIZE_MAX}`;
export const pageSizeSchema = z
  .number()
  .int(PAGE_SIZE_MESSAGE)
  .min(1, PAGE_SIZE_MESSAGE)
  .max(PAGE_SIZE_MAX, PAGE_SIZE_MESSAGE);

/** Validates `value` against `schema`; the error names `field`. */
export function validate<T extends z.ZodType>(
  schema: T,
  value: unknown,
  field: string,
): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new BadUserInputError(result.error.issues[0]?.message ?? 'Invalid value', field);
  }
  return result.data;
}

/** Parses a GraphQL `ID` that must be a MongoDB ObjectId; anything else is bad input. */
export function parseObjectId(value: unknown, field = 'id'): Types.ObjectId {
  if (typeof value !== 'string' || !/^[0-9a-f]{24}$/i.test(value)) {
    throw new BadUserInputError('Malformed id', field);
  }
  return new Types.ObjectId(value);
}
