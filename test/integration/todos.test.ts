import { TodoModel } from '../../src/todos/todo.model';
import { useTestApp } from '../helpers/app';
import {
  CREATE_TODO,
  DELETE_TODO,
  MY_TODOS,
  TODO,
  createTodo,
  register,
  signInAdmin,
} from '../helpers/operations';
import { codeOf, gql } from '../helpers/graphql';

const t = useTestApp();

describe('todos of the signed-in user', () => {
  it('create, read, update and delete', async () => {
    const me = await register(t);
    const created = await gql(
      t.url,
      'mutation { createTodo(input: { title: "  Write tests  " }) { id title completed owner { id } createdAt updatedAt } }',
      {},
      { token: me.accessToken },
    );
    const todo = created.data!.createTodo;
    expect(todo).toMatchObject({ title: 'Write tests', completed: false, owner: { id: me.id } });

    const read = await gql(t.url, TODO, { id: todo.id }, { token: me.accessToken });
    expect(read.data!.todo).toEqual({ id: todo.id, title: 'Write tests' });

    const updated = await gql(
      t.url,
      'mutation ($id: ID!) { updateTodo(id: $id, input: { completed: true }) { title completed updatedAt } }',
      { id: todo.id },
      { token: me.accessToken },
    );
    expect(updated.data!.updateTodo).toMatchObject({ title: 'Write tests', completed: true });
    expect(new Date(updated.data!.updateTodo.updatedAt).getTime()).toBeGreaterThanOrEqual(
      new Date(todo.updatedAt).getTime(),
    );

    const renamed = await gql(
      t.url,
      'mutation ($id: ID!) { updateTodo(id: $id, input: { title: "Done" }) { title completed } }',
      { id: todo.id },
      { token: me.accessToken },
    );
    expect(renamed.data!.updateTodo).toEqual({ title: 'Done', completed: true });

    const deleted = await gql(t.url, DELETE_TODO, { id: todo.id }, { token: me.accessToken });
    expect(deleted.data!.deleteTodo).toBe(true);
    expect(await TodoModel.countDocuments({ _id: todo.id })).toBe(0);
    expect(codeOf(await gql(t.url, DELETE_TODO, { id: todo.id }, { token: me.accessToken }))).toBe(
      'NOT_FOUND',
    );
  });

  it.each([
    ['an empty title', 'mutation { createTodo(input: { title: "   " }) { id } }', 'title'],
    [
      'a title over 200 characters',
      `mutation { createTodo(input: { title: "${'x'.repeat(201)}" }) { id } }`,
      'title',
    ],
    ['a malformed id', 'query { todo(id: "not-an-id") { id } }', 'id'],
    ['page size 0', 'query { myTodos(first: 0) { totalCount } }', 'first'],
    ['page size 101', 'query { myTodos(first: 101) { totalCount } }', 'first'],
    ['a forged cursor', 'query { myTodos(after: "eyIkZ3QiOiIifQ") { totalCount } }', 'after'],
  ])('refuses %s with BAD_USER_INPUT naming the field', async (_what, query, field) => {
    const me = await register(t);
    const before = await TodoModel.countDocuments();
    const res = await gql(t.url, query, {}, { token: me.accessToken });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.extensions!.field).toBe(field);
    expect(await TodoModel.countDocuments()).toBe(before);
  });

  it('refuses an empty title on update and keeps the todo', async () => {
    const me = await register(t);
    const todo = await createTodo(t, me.accessToken, 'keep me');
    const res = await gql(
      t.url,
      'mutation ($id: ID!) { updateTodo(id: $id, input: { title: "" }) { id } }',
      { id: todo.id },
      { token: me.accessToken },
    );
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect((await TodoModel.findById(todo.id).lean())!.title).toBe('keep me');
  });

  it('needs a signed-in user', async () => {
    expect(codeOf(await gql(t.url, CREATE_TODO, { title: 'x' }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await gql(t.url, MY_TODOS))).toBe('UNAUTHENTICATED');
  });
});

describe('pagination', () => {
  it('walks every todo once, newest first, with cursors and a total count', async () => {
    const me = await register(t);
    const titles: string[] = [];
    for (let i = 0; i < 7; i += 1) {
      titles.push(`todo ${i}`);
      await createTodo(t, me.accessToken, `todo ${i}`);
    }
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const res = await gql(t.url, MY_TODOS, { first: 3, after }, { token: me.accessToken });
      const page: any = res.data!.myTodos;
      expect(page.totalCount).toBe(7);
      seen.push(...page.edges.map((edge: any) => edge.node.title));
      pages += 1;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual([...titles].reverse());
  });

  it('filters by completion and defaults to 20 per page', async () => {
    const me = await register(t);
    for (let i = 0; i < 22; i += 1) await createTodo(t, me.accessToken, `item ${i}`);
    const first = (await gql(t.url, MY_TODOS, {}, { token: me.accessToken })).data!.myTodos;
    expect(first.edges).toHaveLength(20);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const id = first.edges[0].node.id;
    await gql(
      t.url,
      'mutation ($id: ID!) { updateTodo(id: $id, input: { completed: true }) { id } }',
      { id },
      { token: me.accessToken },
    );
    const done = (await gql(t.url, MY_TODOS, { completed: true }, { token: me.accessToken })).data!
      .myTodos;
    expect(done.totalCount).toBe(1);
    expect(done.edges[0].node.id).toBe(id);
    const open = (
      await gql(t.url, MY_TODOS, { completed: false, first: 100 }, { token: me.accessToken })
    ).data!.myTodos;
    expect(open.totalCount).toBe(21);
    expect(open.pageInfo).toEqual({ hasNextPage: false, endCursor: open.edges[20].cursor });
  });

  it('an empty list has no end cursor', async () => {
    const me = await register(t);
    const res = await gql(t.url, MY_TODOS, {}, { token: me.accessToken });
    expect(res.data!.myTodos).toEqual({
      totalCount: 0,
      pageInfo: { hasNextPage: false, endCursor: null },
      edges: [],
    });
  });

  it("myTodos shows only the caller's todos; the admin todos query shows everyone's", async () => {
    const alice = await register(t);
    const bob = await register(t);
    await createTodo(t, alice.accessToken, 'alice 1');
    await createTodo(t, bob.accessToken, 'bob 1');
    const mine = (await gql(t.url, MY_TODOS, {}, { token: alice.accessToken })).data!.myTodos;
    expect(mine.edges.map((e: any) => e.node.title)).toEqual(['alice 1']);

    const admin = await signInAdmin(t);
    const all = (
      await gql(
        t.url,
        '{ todos(first: 100) { totalCount edges { node { title owner { email } } } } }',
        {},
        { token: admin.accessToken },
      )
    ).data!.todos;
    expect(all.totalCount).toBe(await TodoModel.countDocuments());
    const owners = new Set(all.edges.map((e: any) => e.node.owner.email));
    expect([...owners]).toEqual(expect.arrayContaining([alice.email, bob.email]));
  });
});

describe('users (admin)', () => {
  it('lists users with their todos, and reads one by id', async () => {
    const admin = await signInAdmin(t);
    const carol = await register(t, { name: 'Carol' });
    await createTodo(t, carol.accessToken, 'carol a');
    await createTodo(t, carol.accessToken, 'carol b');

    const one = await gql(
      t.url,
      'query ($id: ID!) { user(id: $id) { id name email role todos(first: 1) { totalCount edges { node { title } } pageInfo { hasNextPage } } } }',
      { id: carol.id },
      { token: admin.accessToken },
    );
    expect(one.data!.user).toEqual({
      id: carol.id,
      name: 'Carol',
      email: carol.email,
      role: 'CUSTOMER',
      todos: {
        totalCount: 2,
        edges: [{ node: { title: 'carol b' } }],
        pageInfo: { hasNextPage: true },
      },
    });

    const list = await gql(
      t.url,
      '{ users(first: 100) { totalCount edges { node { id todos { totalCount } } } } }',
      {},
      { token: admin.accessToken },
    );
    const carolEdge = list.data!.users.edges.find((e: any) => e.node.id === carol.id);
    expect(carolEdge.node.todos.totalCount).toBe(2);
    expect(list.data!.users.totalCount).toBe(list.data!.users.edges.length);
  });

  it('me { todos } shows the caller their own todos', async () => {
    const me = await register(t);
    await createTodo(t, me.accessToken, 'mine');
    const res = await gql(
      t.url,
      '{ me { todos { edges { node { title } } } } }',
      {},
      { token: me.accessToken },
    );
    expect(res.data!.me.todos.edges).toEqual([{ node: { title: 'mine' } }]);
  });
});
