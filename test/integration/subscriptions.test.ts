import { type TestApp, startTestApp } from '../helpers/app';
import { DELETE_USER, createTodo, register, signInAdmin } from '../helpers/operations';
import { gql } from '../helpers/graphql';
import { EVENT_RETENTION_SECONDS, TodoEventModel } from '../../src/todos/todo-event.model';
import { EVENT_FIELDS, type TestSocket, bearer, openSocket, until } from '../helpers/subscriptions';

/** Subscriptions over a real socket against the real app: who receives which todo events. */
let t: TestApp;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.client.dispose()));
  await t.stop();
});

function socket(params?: Record<string, unknown>): TestSocket {
  const opened = openSocket(t.url, params);
  sockets.push(opened);
  return opened;
}

/** Subscribes and waits until the server counts the new subscriber. */
async function subscribed(on: TestSocket, query: string) {
  const before = t.app.services.todoEvents.subscriberCount;
  const stream = on.subscribe(query);
  await until(() => t.app.services.todoEvents.subscriberCount > before, 'the subscription');
  return stream;
}

const MY_EVENTS = `subscription { myTodoEvents { ${EVENT_FIELDS} } }`;
const ALL_EVENTS = `subscription { todoEvents { ${EVENT_FIELDS} } }`;

it('a customer receives CREATED, UPDATED and DELETED for their own todos, and nothing else', async () => {
  const ada = await register(t);
  const bob = await register(t);
  const stream = await subscribed(socket(bearer(ada.accessToken)), MY_EVENTS);

  // Bob's change comes first: had it been delivered, it would be Ada's first event.
  await createTodo(t, bob.accessToken, "Bob's secret");
  const todo = await createTodo(t, ada.accessToken, 'Write tests');

  const created = await stream.next();
  expect(created).toEqual({
    data: {
      myTodoEvents: {
        kind: 'CREATED',
        todoId: todo.id,
        todo: { id: todo.id, title: 'Write tests', completed: false, owner: { id: ada.id } },
      },
    },
  });

  await gql(
    t.url,
    'mutation ($id: ID!) { updateTodo(id: $id, input: { completed: true }) { id } }',
    { id: todo.id },
    { token: ada.accessToken },
  );
  const updated = await stream.next();
  expect(updated.data!.myTodoEvents).toMatchObject({
    kind: 'UPDATED',
    todoId: todo.id,
    todo: { completed: true },
  });

  await gql(
    t.url,
    'mutation ($id: ID!) { deleteTodo(id: $id) }',
    { id: todo.id },
    {
      token: ada.accessToken,
    },
  );
  const deleted = await stream.next();
  expect(deleted.data!.myTodoEvents).toEqual({ kind: 'DELETED', todoId: todo.id, todo: null });

  // Nothing of Bob's arrived in between or after.
  await createTodo(t, ada.accessToken, 'Marker');
  expect((await stream.next()).data!.myTodoEvents.todo.title).toBe('Marker');
  expect(
    stream.results.every((result) => result.data!.myTodoEvents.todo?.title !== "Bob's secret"),
  ).toBe(true);
});

it("an admin's todoEvents receives everyone's changes, deleteUser's deletions included", async () => {
  const admin = await signInAdmin(t);
  const ada = await register(t);
  const bob = await register(t);
  const stream = await subscribed(socket(bearer(admin.accessToken)), ALL_EVENTS);

  const adas = await createTodo(t, ada.accessToken, 'Ada 1');
  const bobs = await createTodo(t, bob.accessToken, 'Bob 1');
  expect((await stream.next()).data!.todoEvents).toMatchObject({
    kind: 'CREATED',
    todoId: adas.id,
    todo: { owner: { id: ada.id } },
  });
  expect((await stream.next()).data!.todoEvents).toMatchObject({
    kind: 'CREATED',
    todoId: bobs.id,
    todo: { owner: { id: bob.id } },
  });

  const deleted = await gql(t.url, DELETE_USER, { id: bob.id }, { token: admin.accessToken });
  expect(deleted.data!.deleteUser).toBe(true);
  expect((await stream.next()).data!.todoEvents).toEqual({
    kind: 'DELETED',
    todoId: bobs.id,
    todo: null,
  });
});

it('an anonymous caller gets UNAUTHENTICATED, a customer FORBIDDEN for todoEvents', async () => {
  const anonymous = socket();
  await anonymous.connected;
  const mine = anonymous.subscribe(MY_EVENTS);
  await mine.ended;
  expect(mine.results[0]!.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  const all = anonymous.subscribe(ALL_EVENTS);
  await all.ended;
  expect(all.results[0]!.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');

  const ada = await register(t);
  const customer = socket(bearer(ada.accessToken));
  const refused = customer.subscribe(ALL_EVENTS);
  await refused.ended;
  expect(refused.results[0]!.errors![0]!.extensions!.code).toBe('FORBIDDEN');
  // The socket itself stays usable for what the caller may see.
  expect(customer.isClosed()).toBe(false);
});

it('a bad token closes the socket with 4403; the lower-case key is read too', async () => {
  const bad = socket({ authorization: 'Bearer not-a-jwt' });
  expect(await bad.closed).toMatchObject({ code: 4403, reason: 'INVALID_TOKEN' });

  const ada = await register(t);
  const lower = socket({ authorization: `Bearer ${ada.accessToken}` });
  await lower.connected;
  const stream = await subscribed(lower, MY_EVENTS);
  await createTodo(t, ada.accessToken, 'via lower-case key');
  expect((await stream.next()).data!.myTodoEvents.todo.title).toBe('via lower-case key');
});

it('events for other instances expire: their collection has a TTL index', async () => {
  const indexes = await TodoEventModel.collection.indexes();
  expect(indexes).toContainEqual(
    expect.objectContaining({ key: { at: 1 }, expireAfterSeconds: EVENT_RETENTION_SECONDS }),
  );
});
