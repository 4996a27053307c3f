import { graphql } from './graphql';

export interface BenchUser {
  id: string;
  email: string;
  password: string;
  /** Valid for ACCESS_TOKEN_TTL (4h for the bench, longer than `npm run bench`). */
  token: string;
}

const REGISTER = `mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken user { id email } }
}`;
const CREATE_TODO = `mutation CreateTodo($input: CreateTodoInput!) { createTodo(input: $input) { id } }`;

/** Runs `tasks` with at most `limit` in flight. */
async function inParallel(limit: number, tasks: Array<() => Promise<unknown>>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/**
 * Fills the database through the product's own API: `users` customers, each with
 * `todosEach` todos, the first with `todosForFirst` (more than the largest page, 100, so
 * `myTodos(first: 100)` returns a full page).
 */
export async function seed(
  productUrl: string,
  counts: { users: number; todosEach: number; todosForFirst: number },
): Promise<BenchUser[]> {
  const password = 'bench password, long enough';
  const users: BenchUser[] = [];
  for (let i = 0; i < counts.users; i++) {
    const email = `bench-user-${i}@example.com`;
    const { register } = await graphql<{
      register: { accessToken: string; user: { id: string } };
    }>(productUrl, REGISTER, { input: { email, password, name: `Bench user ${i}` } });
    users.push({ id: register.user.id, email, password, token: register.accessToken });
  }
  const tasks = users.flatMap((user, u) =>
    Array.from(
      { length: u === 0 ? counts.todosForFirst : counts.todosEach },
      (_, t) => () =>
        graphql(
          productUrl,
          CREATE_TODO,
          { input: { title: `todo ${t} of user ${u}` } },
          user.token,
        ),
    ),
  );
  await inParallel(8, tasks);
  return users;
}
