/** Helpers for the client tests: when a JWT expires, and a browser-like cookie jar. */

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as {
    exp: number;
    sid: string;
  };

export const sessionIdOf = (refreshToken: string) => claimsOf(refreshToken).sid;

/** Resolves once the server counts `jwt` as expired (its `exp` second has begun). */
export async function untilExpired(jwt: string): Promise<void> {
  const wait = claimsOf(jwt).exp * 1000 - Date.now() + 20;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

/**
 * What a browser does with cookies for the snippets that rely on it: keeps what Set-Cookie
 * says and sends it back. Installed as the global fetch, over the real one; the requests are
 * real HTTP.
 */
export function installCookieJar(): { cookies: Map<string, string>; uninstall(): void } {
  const realFetch = globalThis.fetch;
  const cookies = new Map<string, string>();
  globalThis.fetch = async (input, init = {}) => {
    const headers = new Headers(init.headers);
    if (init.credentials === 'include' && cookies.size > 0) {
      headers.set('cookie', [...cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    }
    const response = await realFetch(input, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, value] = pair!.split('=') as [string, string];
      const expired = attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') cookies.delete(name.trim());
      else cookies.set(name.trim(), value);
    }
    return response;
  };
  return { cookies, uninstall: () => void (globalThis.fetch = realFetch) };
}
