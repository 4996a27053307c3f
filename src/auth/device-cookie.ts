import { parse } from 'cookie';
import { type Request, type Response } from 'express';

/**
 * OWASP's device cookie: a signed token naming the account this client signed in to. It lets
 * the client keep its own small budget of failed logins when the account is under attack
 * from elsewhere. `__Secure-` makes browsers refuse it unless it is Secure.
 */
export const DEVICE_COOKIE = '__Secure-device';

export function readDeviceCookie(req: Request): string | undefined {
  const header = req.headers.cookie;
  return header ? parse(header)[DEVICE_COOKIE] : undefined;
}

export function setDeviceCookie(res: Response, token: string, maxAgeSeconds: number): void {
  res.cookie(DEVICE_COOKIE, token, {
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    path: '/graphql',
    maxAge: maxAgeSeconds * 1000,
  });
}
