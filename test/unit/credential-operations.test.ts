import {
  type GraphQLArgument,
  type GraphQLInputType,
  type GraphQLSchema,
  getNamedType,
  isInputObjectType,
} from 'graphql';
import { CREDENTIAL_OPERATIONS } from '../../src/auth/credential-operations';
import { buildAppSchema } from '../../src/schema';

/** True when an argument, or any field of an input object it takes, carries a password. */
function takesPassword(args: readonly GraphQLArgument[]): boolean {
  const seen = new Set<string>();
  const visit = (name: string, type: GraphQLInputType): boolean => {
    if (/password/i.test(name)) return true;
    const named = getNamedType(type);
    if (!isInputObjectType(named) || seen.has(named.name)) return false;
    seen.add(named.name);
    return Object.values(named.getFields()).some((field) => visit(field.name, field.type));
  };
  return args.some((arg) => visit(arg.name, arg.type));
}

describe('the one-credential-field-per-operation rule', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildAppSchema();
  });

  it('covers every mutation that takes a password or returns AuthPayload', () => {
    const mutations = Object.values(schema.getMutationType()!.getFields());
    const credentialMutations = mutations
      .filter(
        (field) => takesPassword(field.args) || getNamedType(field.type).name === 'AuthPayload',
      )
      .map((field) => field.name);
    expect(credentialMutations.length).toBeGreaterThanOrEqual(4);
    expect(credentialMutations.filter((name) => !CREDENTIAL_OPERATIONS.has(name))).toEqual([]);
  });

  it('names only mutations that exist', () => {
    const mutations = schema.getMutationType()!.getFields();
    expect([...CREDENTIAL_OPERATIONS].filter((name) => !mutations[name])).toEqual([]);
  });
});
