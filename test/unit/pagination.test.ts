import { Types } from 'mongoose';
import { BadUserInputError } from '../../src/common/errors';
import { decodeCursor, encodeCursor, pageRequest } from '../../src/common/pagination';

describe('cursors', () => {
  it('round-trip a position', () => {
    const item = { _id: new Types.ObjectId(), createdAt: new Date('2026-01-02T03:04:05.678Z') };
    const position = decodeCursor(encodeCursor(item));
    expect(position.createdAt.toISOString()).toBe(item.createdAt.toISOString());
    expect(position.id.equals(item._id)).toBe(true);
  });

  it.each([
    '',
    'not-a-cursor',
    Buffer.from('{"$gt":""}').toString('base64url'),
    Buffer.from('1:zz').toString('base64url'),
  ])('refuses a forged cursor %p as bad input on `after`', (cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(BadUserInputError);
    try {
      decodeCursor(cursor);
    } catch (error) {
      expect((error as BadUserInputError).field).toBe('after');
    }
  });

  it.each([0, 101, -1, 1.5])('refuses page size %p', (first) => {
    expect(() => pageRequest(first, null)).toThrow(/first must be between 1 and 100/);
  });
});
