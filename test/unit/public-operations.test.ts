import { type OperationDefinitionNode, parse } from 'graphql';
import { isPublicOperation } from '../../src/auth/public-operations';

const operationOf = (source: string) => parse(source).definitions[0] as OperationDefinitionNode;

describe('isPublicOperation', () => {
  it.each([
    'mutation { login(email: "a", password: "b") { accessToken } }',
    'mutation { refreshToken { accessToken } __typename }',
    'mutation { a: logout b: logout }',
  ])('public: %s', (source) => {
    expect(isPublicOperation(operationOf(source))).toBe(true);
  });

  it.each([
    '{ me { id } }',
    'query { __typename }',
    'mutation { logout logoutAll }',
    'mutation { createTodo(input: { title: "x" }) { id } }',
    'mutation { ... on Mutation { logout } }',
    'mutation { ...F } fragment F on Mutation { logout }',
  ])('not public: %s', (source) => {
    expect(isPublicOperation(operationOf(source))).toBe(false);
  });

  it('an unresolved operation is not public', () => {
    expect(isPublicOperation(undefined)).toBe(false);
  });
});
