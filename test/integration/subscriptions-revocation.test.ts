import { type TestApp, startTestApp } from '../helpers/app';
import {
  DELETE_USER,
  REVOKE_SESSION,
  type SignedIn,
  createTodo,
  login,
  register,
  signInAdmin,
} from '../helpers/operations';
import { gql } from '../helpers/graphql';
import { EVENT_FIELDS, type TestSocket, bearer, openSocket, until } from '../helpers/subscriptions';

/**
 * Revocation ends open sockets (4403 REVOKED) within AUTH_REVALIDATE_SECONDS + 1 s, and only
 * the affected ones: each case keeps a bystander's socket and checks it still delivers.
 */
const REVALIDATE_SECONDS = 1;
/** The contract's bound, plus room for a loaded machine. */
const CLOSE_WITHIN_MS = (REVALIDATE_SECONDS + 1) * 1000 + 3000;
const MY_EVENTS = `subscription { myTodoEvents { ${EVENT_FIELDS} } }`;
const ALL_EVENTS = `subscription { todoEvents { ${EVENT_FIELDS} } }`;

let t: TestApp;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  t = await startTestApp({ AUTH_REVALIDATE_SECONDS: String(REVALIDATE_SECONDS) });
});

afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.client.dispose()));
  await t.stop();
});

/** A connected socket with one live subscription. */
async function watching(token: string, query = MY_EVENTS) {
  const socket = openSocket(t.url, bearer(token));
  sockets.push(socket);
  await socket.connected;
  const before = t.app.services.todoEvents.subscriberCount;
  const stream = socket.subscribe(query);
  await until(() => t.app.services.todoEvents.subscriberCount > before, 'the subscription');
  return { socket, stream };
}

async function expectRevoked(socket: TestSocket) {
  const closed = await Promise.race([
    socket.closed,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('socket still open')), CLOSE_WITHIN_MS),
    ),
  ]);
  expect(closed).toMatchObject({ code: 4403, reason: 'REVOKED' });
}

/** The bystander's socket is open: it still receives its owner's changes. */
async function expectStillOpen(watcher: Awaited<ReturnType<typeof watching>>, owner: SignedIn) {
  expect(watcher.socket.isClosed()).toBe(false);
  const title = `still here ${Math.random()}`;
  await createTodo(t, owner.accessToken, title);
  for (;;) {
    const result = await watcher.stream.next();
    if (result.data!.myTodoEvents.todo?.title === title) break;
  }
}

it('logoutAll closes every socket of the user, and no one else’s', async () => {
  const ada = await register(t);
  const second = (await login(t, ada.email, ada.password)).data!.login;
  const bob = await register(t);
  const phone = await watching(ada.accessToken);
  const laptop = await watching(second.accessToken);
  const bystander = await watching(bob.accessToken);

  expect((await gql(t.url, 'mutation { logoutAll }', {}, { token: ada.accessToken })).data).toEqual(
    { logoutAll: true },
  );
  await expectRevoked(phone.socket);
  await expectRevoked(laptop.socket);
  await expectStillOpen(bystander, bob);
});

it("logout ends that session's socket; the user's other session keeps its own", async () => {
  const ada = await register(t);
  const other = (await login(t, ada.email, ada.password)).data!.login;
  const ending = await watching(ada.accessToken);
  const staying = await watching(other.accessToken);

  await gql(t.url, 'mutation ($t: String) { logout(refreshToken: $t) }', { t: ada.refreshToken });
  await expectRevoked(ending.socket);
  await expectStillOpen(staying, { ...ada, accessToken: other.accessToken });
});

it('changePassword closes the sockets opened before it', async () => {
  const ada = await register(t);
  const bob = await register(t);
  const before = await watching(ada.accessToken);
  const bystander = await watching(bob.accessToken);

  const changed = await gql(
    t.url,
    'mutation ($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }',
    { c: ada.password, n: 'a brand new password' },
    { token: ada.accessToken },
  );
  const fresh = changed.data!.changePassword.accessToken as string;
  await expectRevoked(before.socket);
  await expectStillOpen(bystander, bob);

  // The token issued with the change opens a socket that works.
  const after = await watching(fresh);
  await expectStillOpen(after, { ...ada, accessToken: fresh });
});

it("a demoted admin's todoEvents ends; another admin's stays", async () => {
  const root = await signInAdmin(t);
  const demoted = await signInAdmin(t);
  const ada = await register(t);
  const theirs = await watching(demoted.accessToken, ALL_EVENTS);
  const rootWatch = await watching(root.accessToken, ALL_EVENTS);

  const res = await gql(
    t.url,
    'mutation ($id: ID!) { setUserRole(id: $id, role: CUSTOMER) { role } }',
    { id: demoted.id },
    { token: root.accessToken },
  );
  expect(res.data!.setUserRole.role).toBe('CUSTOMER');
  await expectRevoked(theirs.socket);

  expect(rootWatch.socket.isClosed()).toBe(false);
  const todo = await createTodo(t, ada.accessToken, 'seen by the remaining admin');
  for (;;) {
    const result = await rootWatch.stream.next();
    if (result.data!.todoEvents.todoId === todo.id) break;
  }
});

it("deleteUser closes the deleted user's sockets only", async () => {
  const admin = await signInAdmin(t);
  const ada = await register(t);
  const bob = await register(t);
  const doomed = await watching(ada.accessToken);
  const bystander = await watching(bob.accessToken);

  await gql(
    t.url,
    DELETE_USER,
    { id: ada.id },
    {
      token: admin.accessToken,
    },
  );
  await expectRevoked(doomed.socket);
  await expectStillOpen(bystander, bob);
});

it('revokeSession ends the socket of the session it signs out', async () => {
  const ada = await register(t);
  const other = (await login(t, ada.email, ada.password)).data!.login;
  const target = await watching(other.accessToken);
  const sessions = await gql(t.url, '{ sessions { id current } }', {}, { token: ada.accessToken });
  const otherSession = sessions.data!.sessions.find((s: { current: boolean }) => !s.current);

  await gql(
    t.url,
    REVOKE_SESSION,
    { id: otherSession.id },
    {
      token: ada.accessToken,
    },
  );
  await expectRevoked(target.socket);
});

it('a socket cannot be opened with the access token of a session already signed out', async () => {
  const ada = await register(t);
  await gql(t.url, 'mutation ($t: String) { logout(refreshToken: $t) }', { t: ada.refreshToken });
  const socket = openSocket(t.url, bearer(ada.accessToken));
  sockets.push(socket);
  expect(await socket.closed).toMatchObject({ code: 4403, reason: 'REVOKED' });
});
