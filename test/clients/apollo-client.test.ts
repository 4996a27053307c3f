import { type TypedDocumentNode, gql } from '@apollo/client';
import { AuditEventModel } from '../../src/audit/audit.model';
import { SessionModel } from '../../src/auth/session.model';
import { type TestApp, startTestApp } from '../helpers/app';
import { uniqueEmail } from '../helpers/operations';
import { type TokenStore, createApolloClient } from './snippets/apollo';
import { sessionIdOf, untilExpired } from './support';

/** Responses are checked field by field below; no generated types here. */
const graphql = (source: TemplateStringsArray) => gql(source) as TypedDocumentNode<any, any>;

const REGISTER = graphql`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      accessToken
      refreshToken
      user {
        id
      }
    }
  }
`;
const LOGIN = graphql`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      accessToken
      refreshToken
    }
  }
`;
const ME = graphql`
  query Me {
    me {
      id
      email
    }
  }
`;
const CREATE_TODO = graphql`
  mutation CreateTodo($title: String!) {
    createTodo(input: { title: $title }) {
      id
    }
  }
`;
const MY_TODOS = graphql`
  query MyTodos($after: String) {
    myTodos(first: 2, after: $after) {
      edges {
        cursor
        node {
          id
          title
        }
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
`;
const SESSIONS = graphql`
  query Sessions {
    sessions {
      id
      current
    }
  }
`;
const TODO_COUNT = graphql`
  query TodoCount {
    myTodos(first: 1) {
      totalCount
    }
  }
`;
const LOGOUT = graphql`
  mutation Logout($token: String) {
    logout(refreshToken: $token)
  }
`;

describe('Apollo Client 4 with the README links', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Short-lived access tokens, so expiry happens within the test.
    t = await startTestApp({ ACCESS_TOKEN_TTL: '4' });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('registers, signs in, reads me and pages with fetchMore', async () => {
    const tokens: TokenStore = {};
    const client = createApolloClient(`${t.url}/graphql`, tokens);
    const email = uniqueEmail('apollo');
    const password = 'correct horse battery';
    const registered = await client.mutate({
      mutation: REGISTER,
      variables: { input: { email, password, name: 'Apollo' } },
    });
    const userId = registered.data!.register.user.id;

    const login = await client.mutate({ mutation: LOGIN, variables: { email, password } });
    Object.assign(tokens, login.data!.login);
    expect((await client.query({ query: ME })).data!.me).toMatchObject({ id: userId, email });

    for (const title of ['one', 'two', 'three', 'four', 'five']) {
      await client.mutate({ mutation: CREATE_TODO, variables: { title } });
    }
    const first = await client.query({ query: MY_TODOS });
    expect(first.data!.myTodos.edges).toHaveLength(2);
    expect(first.data!.myTodos.pageInfo.hasNextPage).toBe(true);
    const observable = client.watchQuery({ query: MY_TODOS });
    await observable.fetchMore({ variables: { after: first.data!.myTodos.pageInfo.endCursor } });
    // relayStylePagination merged the second page into the cached list.
    const merged = client.readQuery({ query: MY_TODOS })!.myTodos.edges;
    expect(merged).toHaveLength(4);
    expect(new Set(merged.map((edge: any) => edge.node.id)).size).toBe(4);
  });

  it('after expiry, concurrent operations share one refresh and are retried; logout then records no reuse', async () => {
    const tokens: TokenStore = {};
    const client = createApolloClient(`${t.url}/graphql`, tokens);
    const email = uniqueEmail('expiry');
    const registered = await client.mutate({
      mutation: REGISTER,
      variables: { input: { email, password: 'correct horse battery', name: 'Expiry' } },
    });
    Object.assign(tokens, registered.data!.register);
    const userId = registered.data!.register.user.id;
    const sessionId = sessionIdOf(tokens.refreshToken!);

    await untilExpired(tokens.accessToken!);
    const results = await Promise.all([
      client.query({ query: ME, fetchPolicy: 'network-only' }),
      client.query({ query: MY_TODOS, fetchPolicy: 'network-only' }),
      client.query({ query: SESSIONS, fetchPolicy: 'network-only' }),
      client.query({ query: TODO_COUNT, fetchPolicy: 'network-only' }),
    ]);
    expect(results.map((r) => r.error)).toEqual([undefined, undefined, undefined, undefined]);
    expect(results[0].data!.me.id).toBe(userId);
    expect(results[3].data!.myTodos.totalCount).toBe(0);
    // One refresh for the four: the family moved forward exactly once.
    expect((await SessionModel.findById(sessionId).lean())!.generation).toBe(1);

    // Idle again: the header is stale, the logout still ends the session, without a reuse event.
    await untilExpired(tokens.accessToken!);
    const out = await client.mutate({
      mutation: LOGOUT,
      variables: { token: tokens.refreshToken },
    });
    expect(out.data!.logout).toBe(true);
    const session = await SessionModel.findById(sessionId).lean();
    expect(session!.revokedReason).toBe('logout');
    const events = await AuditEventModel.find({ userId }).lean();
    expect(events.map((e) => e.type)).toContain('LOGOUT');
    expect(events.map((e) => e.type)).not.toContain('REFRESH_REUSE_DETECTED');
  });
});
