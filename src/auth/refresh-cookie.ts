import { parse } from 'cookie';
import { type Request, type Response } from 'express';

/** `__Secure-` makes browsers refuse the cookie unless it is Secure. */
export const REFRESH_COOKIE = '__Secure-refresh-token';

const cookieOptions = {
  httpOnly: true,
  secure: true,
  sameSite: 'strict',
  path: '/graphql',
} as const;

export function readRefreshCookie(req: Request): string | undefined {
  const header = req.headers.cookie;
  return header ? parse(header)[REFRESH_COOKIE] : undefined;
}

export function setRefreshCookie(res: Response, token: string, maxAgeSeconds: number): void {
  res.cookie(REFRESH_COOKIE, token, { ...cookieOptions, maxAge: maxAgeSeconds * 1000 });
}

export function clearRefreshCookie(res: Response): void {
  res.clearCookie(REFRESH_COOKIE, cookieOptions);
}
