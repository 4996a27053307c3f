import { HOOK_TIMEOUT_MS, useTestApp } from '../helpers/app';
import { ME, createTodo, register, signInAdmin } from '../helpers/operations';
import { gql } from '../helpers/graphql';

// Callers stay cached for the whole file, so the counts below are what the resolvers cost;
// with AUTH_REVALIDATE_SECONDS=0 every request would add one `find` for the caller.
const t = useTestApp({ AUTH_REVALIDATE_SECONDS: '300' });

/** Database commands one GraphQL request costs, counted by the driver's command monitoring. */
async function commandsFor(query: string, token: string): Promise<string[]> {
  await gql(t.url, ME, {}, { token });
  t.commands.reset();
  const res = await gql(t.url, query, {}, { token });
  expect(res.errors).toBeUndefined();
  return t.commands.list.map((event) => event.commandName);
}

describe('batched loading', () => {
  let adminToken: string;
  beforeAll(async () => {
    const admin = await signInAdmin(t);
    adminToken = admin.accessToken;
    // 12 owners with 10 todos each: 120 todos, spread so that any page mixes owners.
    const owners = await Promise.all(Array.from({ length: 12 }, () => register(t)));
    for (let round = 0; round < 10; round += 1) {
      await Promise.all(owners.map((owner) => createTodo(t, owner.accessToken, `round ${round}`)));
    }
  }, HOOK_TIMEOUT_MS);

  it('todos { owner } costs the same round trips for 100 todos as for 5', async () => {
    const page = (first: number) =>
      `{ todos(first: ${first}) { edges { node { owner { email } } } } }`;
    const five = await commandsFor(page(5), adminToken);
    const hundred = await commandsFor(page(100), adminToken);
    expect(hundred).toEqual(five);
    expect(hundred).toEqual(['find', 'find']); // the page of todos, then their owners at once
  });

  it('users { todos } costs the same round trips for 13 users as for 2', async () => {
    const page = (first: number) =>
      `{ users(first: ${first}) { edges { node { email todos(first: 3) { totalCount edges { node { title } } } } } } }`;
    const two = await commandsFor(page(2), adminToken);
    const all = await commandsFor(page(13), adminToken);
    expect(all).toEqual(two);
    // the users, then every user's page of todos at once, then every user's count at once
    expect(all).toEqual(['find', 'aggregate', 'aggregate']);
  });

  it('myTodos { owner } needs one query: the owner is the caller', async () => {
    const me = await register(t);
    for (let i = 0; i < 5; i += 1) await createTodo(t, me.accessToken, `mine ${i}`);
    const commands = await commandsFor(
      '{ myTodos(first: 100) { edges { node { title owner { email } } } } }',
      me.accessToken,
    );
    expect(commands).toEqual(['find']);
  });
});
