import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type GraphQLObjectType, isObjectType } from 'graphql';
import { buildAppSchema, renderSchema } from '../../src/schema';

describe('schema.graphql', () => {
  it('is what the code generates (run `npm run schema` after changing the schema)', async () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'schema.graphql'), 'utf8');
    expect(committed).toBe(renderSchema(await buildAppSchema()));
  });

  it('has no output field that could expose a password or a hash', async () => {
    const schema = await buildAppSchema();
    const outputFields = Object.values(schema.getTypeMap())
      .filter(
        (type): type is GraphQLObjectType =>
          isObjectType(type) && !type.name.startsWith('__') && type !== schema.getMutationType(),
      )
      .flatMap((type) => Object.keys(type.getFields()).map((field) => `${type.name}.${field}`));
    expect(outputFields).toContain('User.email');
    expect(outputFields.filter((field) => /password|hash/i.test(field))).toEqual([]);
  });
});
