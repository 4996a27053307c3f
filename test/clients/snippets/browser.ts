// Quoted verbatim in README.md ("Clients"); see test/clients/readme-snippets.test.ts.
// README: browser
/**
 * Cookie mode (REFRESH_TOKEN_COOKIE=true): the refresh token lives in an httpOnly cookie that
 * page scripts never see; the access token only in memory. Each tab calls restore() when it
 * opens; tabs restoring at the same moment all get a working token (REFRESH_REUSE_GRACE).
 */
export interface GraphQLResult {
  data?: Record<string, { accessToken?: string } | boolean | null> | null;
  errors?: Array<{ message: string; extensions?: { code?: string; reason?: string } }>;
}

const tokenOf = (body: GraphQLResult, field: string) => {
  const payload = body.data?.[field];
  return typeof payload === 'object' ? payload?.accessToken : undefined;
};

export function createBrowserSession(api: string) {
  let accessToken: string | undefined;
  let refreshing: Promise<boolean> | undefined;

  const post = async (query: string, variables: object = {}, token?: string) => {
    const response = await fetch(api, {
      method: 'POST',
      // Sends and stores the cookie also when the API is another origin of the same site.
      credentials: 'include',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as GraphQLResult };
  };

  /** Trades the cookie for an access token (and the next cookie); false when signed out. */
  const restore = () =>
    (refreshing ??= post('mutation { refreshToken { accessToken } }')
      .then(({ body }) => (accessToken = tokenOf(body, 'refreshToken')) !== undefined)
      .finally(() => (refreshing = undefined)));

  return {
    restore,
    async login(email: string, password: string) {
      const { body } = await post(
        'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }',
        { e: email, p: password },
      );
      accessToken = tokenOf(body, 'login');
      return body;
    },
    /** Runs an operation; when the access token has expired, refreshes once and retries. */
    async request(query: string, variables?: object) {
      let result = await post(query, variables, accessToken);
      if (result.status === 401 && (await restore())) {
        result = await post(query, variables, accessToken);
      }
      return result.body;
    },
    async logout() {
      await post('mutation { logout }');
      accessToken = undefined;
    },
  };
}
// README end
