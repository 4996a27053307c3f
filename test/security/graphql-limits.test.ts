import { TodoModel } from '../../src/todos/todo.model';
import { productionEnv, useTestApp } from '../helpers/app';
import {
  REGISTER,
  SET_USER_ROLE,
  type SignedIn,
  createTodo,
  register,
} from '../helpers/operations';
import { type GraphQLResponse, codeOf, gql } from '../helpers/graphql';
import { rawRequest } from './support';

/**
 * Query bombs (depth, aliases, cost, directives, tokens, batching) with the default limits, and
 * what production reveals about the schema (introspection, "Did you mean" suggestions).
 */

/** Refused before execution: HTTP 400, never a 500, no data at all. */
function expectRefusedBeforeExecution(res: GraphQLResponse, code = 'GRAPHQL_VALIDATION_FAILED') {
  expect(res.status).toBe(400);
  expect(codeOf(res)).toBe(code);
  expect(res.data).toBeUndefined();
}

const nest = (levels: number, leaf = 'id'): string =>
  levels === 0 ? leaf : `owner { todos { edges { node { ${nest(levels - 1, leaf)} } } } }`;

describe('query bombs (default limits)', () => {
  const t = useTestApp();
  let user: SignedIn;
  beforeAll(async () => {
    user = await register(t);
    await createTodo(t, user.accessToken);
  });

  const send = (query: string, variables?: Record<string, unknown>) =>
    gql(t.url, query, variables, { token: user.accessToken });

  it('answers a query at exactly the depth and alias limits (control)', async () => {
    // myTodos > edges > node > owner > todos > edges > node > owner > todos > totalCount: 10.
    const deep = await send(
      `{ myTodos(first: 1) { edges { node { ${nest(1, 'owner { todos { totalCount } }')} } } } }`,
    );
    expect(deep.status).toBe(200);
    expect(deep.errors).toBeUndefined();
    const aliases = Array.from({ length: 15 }, (_, i) => `a${i}: me { id }`).join(' ');
    const wide = await send(`{ ${aliases} }`);
    expect(wide.status).toBe(200);
    expect(wide.data!.a14.id).toBe(user.id);
  });

  it('refuses a query nested one level deeper than the limit', async () => {
    const leaf = 'owner { todos { pageInfo { hasNextPage } } }';
    const res = await send(`{ myTodos(first: 1) { edges { node { ${nest(1, leaf)} } } } }`);
    expectRefusedBeforeExecution(res);
    expect(res.errors![0]!.message).toMatch(/depth limit of 10 exceeded, found 11/);
  });

  it('refuses depth built out of fragments', async () => {
    expectRefusedBeforeExecution(
      await send(`{ me { ...A } }
        fragment A on User { todos { edges { node { owner { ...B } } } } }
        fragment B on User { todos { edges { node { owner { ...C } } } } }
        fragment C on User { todos { edges { node { id } } } }`),
    );
  });

  it('refuses a fragment that spreads itself (cycle)', async () => {
    expectRefusedBeforeExecution(
      await send(
        `{ me { ...Loop } } fragment Loop on User { todos { edges { node { owner { ...Loop } } } } }`,
      ),
    );
  });

  it('refuses 16 aliases', async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(' ');
    const res = await send(`{ ${aliases} }`);
    expectRefusedBeforeExecution(res);
    expect(res.errors![0]!.message).toMatch(/aliases limit of 15 exceeded, found 16/i);
  });

  it('refuses aliases spread over fragments that add up to 16', async () => {
    const eight = (p: string) => Array.from({ length: 8 }, (_, i) => `${p}${i}: id`).join(' ');
    expectRefusedBeforeExecution(
      await send(
        `{ me { ...A ...B } } fragment A on User { ${eight('a')} } fragment B on User { ${eight('b')} }`,
      ),
    );
  });

  it('refuses 16 aliased mutations (16 writes in one request) and creates nothing', async () => {
    const before = await TodoModel.countDocuments();
    const writes = Array.from(
      { length: 16 },
      (_, i) => `w${i}: createTodo(input: { title: "spam" }) { id }`,
    );
    expectRefusedBeforeExecution(await send(`mutation { ${writes.join(' ')} }`));
    expect(await TodoModel.countDocuments()).toBe(before);
  });

  it('refuses nested pages whose cost (100 × 100 × …) exceeds 5000', async () => {
    const res = await send(
      '{ myTodos(first: 100) { edges { node { owner { todos(first: 100) { edges { node { id } } } } } } } }',
    );
    expectRefusedBeforeExecution(res);
    expect(res.errors![0]!.message).toMatch(/cost/i);
  });

  it('counts page sizes given in variables', async () => {
    expectRefusedBeforeExecution(
      await send(
        'query ($a: Int, $b: Int) { myTodos(first: $a) { edges { node { owner { todos(first: $b) { edges { node { id } } } } } } } }',
        { a: 100, b: 100 },
      ),
    );
  });

  it('counts the default page size of an omitted first', async () => {
    // 1 + 100 × (3 + (1 + 20 × 3)) = 6401 with the default of 20 on the inner list.
    expectRefusedBeforeExecution(
      await send(
        '{ myTodos(first: 100) { edges { node { owner { todos { edges { node { id } } } } } } } }',
      ),
    );
  });

  it('counts first: null as the default page size it is served with', async () => {
    // The resolver serves `first: null` as 20 items: the same 6401 as the query above.
    expectRefusedBeforeExecution(
      await send(
        '{ myTodos(first: 100) { edges { node { owner { todos(first: null) { edges { node { id } } } } } } } }',
      ),
    );
  });

  it('sums the cost of aliased lists', async () => {
    // 15 × (1 + 100 × 4) = 6015.
    const lists = Array.from(
      { length: 15 },
      (_, i) => `l${i}: myTodos(first: 100) { edges { node { id title } } }`,
    );
    expectRefusedBeforeExecution(await send(`{ ${lists.join(' ')} }`));
  });

  it('does not skip the cost check when the query is too large to measure', async () => {
    // 22³ fragment spreads make the cost estimator give up (its node limit); the expensive
    // nested pages next to them must still be refused.
    const spreads = (name: string) => Array.from({ length: 22 }, () => `...${name}`).join(' ');
    const res = await send(`{
      myTodos(first: 100) { edges { node { owner { todos(first: 100) { edges { node { id } } } } } } }
      me { ...F3 }
    }
    fragment F0 on User { id }
    fragment F1 on User { ${spreads('F0')} }
    fragment F2 on User { ${spreads('F1')} }
    fragment F3 on User { ${spreads('F2')} }`);
    expectRefusedBeforeExecution(res);
  });

  it('refuses 51 directives spread over the fields of a query', async () => {
    const res = await send(
      `{ me { ${Array.from({ length: 51 }, () => 'id @include(if: true)').join(' ')} } }`,
    );
    expectRefusedBeforeExecution(res);
    expect(res.errors![0]!.message).toMatch(/directive/i);
  });

  it('refuses a document of more than 1000 tokens while parsing', async () => {
    const res = await send(`{ me { ${'id '.repeat(1000)} } }`);
    expectRefusedBeforeExecution(res, 'GRAPHQL_PARSE_FAILED');
    expect(res.errors![0]!.message).toMatch(/tokens/i);
  });

  it('refuses an HTTP batch of operations and runs none of them', async () => {
    const before = await TodoModel.countDocuments();
    const res = await rawRequest(t.url, {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${user.accessToken}` },
      body: JSON.stringify(
        Array.from({ length: 3 }, () => ({
          query: 'mutation { createTodo(input: { title: "batched" }) { id } }',
        })),
      ),
    });
    expect(res.status).toBe(400);
    expect(res.json.data).toBeUndefined();
    expect(await TodoModel.countDocuments()).toBe(before);
  });

  it('refuses a deeply nested introspection query', async () => {
    const res = await gql(
      t.url,
      '{ __schema { types { fields { type { ofType { fields { type { ofType { fields { type { ofType { fields { name } } } } } } } } } } } } }',
    );
    expectRefusedBeforeExecution(res);
  });
});

describe('in production', () => {
  const t = useTestApp(productionEnv());

  it.each([
    ['__schema', '{ __schema { types { name } } }'],
    ['__type', '{ __type(name: "User") { fields { name } } }'],
    ['__schema behind an alias', '{ s: __schema { queryType { name } } }'],
    [
      '__type inside a fragment',
      '{ ...F } fragment F on Query { __type(name: "Mutation") { name } }',
    ],
  ])('introspection through %s is refused', async (_label, query) => {
    const res = await gql(t.url, query);
    expectRefusedBeforeExecution(res);
    expect(res.text).not.toMatch(/"fields"|"queryType"|setUserRole/);
  });

  it.each([
    ['a mistyped field', '{ mee { id } }'],
    ['a mistyped argument', '{ myTodos(frist: 1) { totalCount } }'],
    ['a mistyped enum literal', 'mutation { setUserRole(id: "x", role: ADMN) { id } }'],
    ['a mistyped type in a fragment', '{ me { ...F } } fragment F on Usr { id }'],
  ])('%s gets no "Did you mean" suggestion', async (_label, query) => {
    const res = await gql(t.url, query);
    expectRefusedBeforeExecution(res);
    expect(res.text).not.toMatch(/did you mean/i);
  });

  it.each([
    [
      'a mistyped input field',
      REGISTER,
      { input: { emial: 'a@example.com', password: 'long enough pw', name: 'N' } },
    ],
    ['a mistyped enum value', SET_USER_ROLE, { id: 'x', role: 'ADMN' }],
  ])('%s in variables gets no "Did you mean" suggestion', async (_label, query, variables) => {
    const res = await gql(t.url, query, variables);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.text).not.toMatch(/did you mean/i);
  });

  it('serves no Sandbox landing page to a browser', async () => {
    const res = await fetch(`${t.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await res.text()).not.toMatch(/sandbox|embeddable|<html/i);
  });

  it('refuses a token bomb without a stack trace or file paths', async () => {
    const res = await gql(t.url, `{ me { ${'id '.repeat(1000)} } }`);
    expectRefusedBeforeExecution(res, 'GRAPHQL_PARSE_FAILED');
    expect(res.text).not.toMatch(/stacktrace|node_modules|\bat \w+ \(/);
  });
});
