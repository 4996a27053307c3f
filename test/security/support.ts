import { type KeyObject, constants, createHmac, sign } from 'node:crypto';
import { type IncomingHttpHeaders, request } from 'node:http';
import { AuditEventModel, type AuditEventType } from '../../src/audit/audit.model';
import { SessionModel } from '../../src/auth/session.model';
import { TodoModel } from '../../src/todos/todo.model';
import { UserModel } from '../../src/users/user.model';

/** Shared tools of the hostile-input suite: token forgery, raw HTTP, database snapshots. */

export const base64url = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export type JwtParts = { header: Record<string, any>; payload: Record<string, any> };

/** Header and payload of a compact JWT, without verifying anything. */
export function decodeJwt(token: string): JwtParts {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header!, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(payload!, 'base64url').toString()),
  };
}

type SigningKey = string | Buffer | KeyObject;

function signatureOf(alg: string, input: string, key: SigningKey | undefined): string {
  if (key === undefined || /^none$/i.test(alg)) return '';
  const digest = `sha${alg.slice(2)}`;
  const data = Buffer.from(input);
  if (alg.startsWith('HS')) return createHmac(digest, key).update(input).digest('base64url');
  if (alg.startsWith('RS')) return sign(digest, data, key as KeyObject).toString('base64url');
  if (alg.startsWith('PS')) {
    return sign(digest, data, {
      key: key as KeyObject,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    }).toString('base64url');
  }
  if (alg.startsWith('ES')) {
    return sign(digest, data, { key: key as KeyObject, dsaEncoding: 'ieee-p1363' }).toString(
      'base64url',
    );
  }
  throw new Error(`no signer for ${alg}`);
}

/**
 * Builds a compact JWT by hand (jsonwebtoken refuses to make most of these): the signature is
 * computed for `header.alg` with `key`, or left empty without a key.
 */
export function forgeJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key?: SigningKey,
): string {
  const input = `${base64url(header)}.${base64url(payload)}`;
  return `${input}.${signatureOf(String(header.alg), input, key)}`;
}

/** Claims of a fresh, otherwise valid access token, copied from a real one. */
export function freshClaims(accessToken: string): JwtParts {
  const { header, payload } = decodeJwt(accessToken);
  const now = Math.floor(Date.now() / 1000);
  return { header, payload: { ...payload, iat: now, exp: now + 600 } };
}

/** Every stored user (with its hash and credential version), todo and session, in order. */
export async function databaseSnapshot(): Promise<unknown> {
  const [users, todos, sessions] = await Promise.all([
    UserModel.find().select('+passwordHash').sort({ _id: 1 }).lean(),
    TodoModel.find().sort({ _id: 1 }).lean(),
    SessionModel.find().sort({ _id: 1 }).lean(),
  ]);
  return JSON.parse(JSON.stringify({ users, todos, sessions }));
}

/** How many audit events of these types exist (a password check leaves one). */
export const auditCount = (types: AuditEventType[], userId?: string) =>
  AuditEventModel.countDocuments({ type: { $in: types }, ...(userId ? { userId } : {}) });

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: any;
}

/**
 * One HTTP request with full control over the header lines (fetch merges repeated headers into
 * one comma-joined value and refuses some names). An array value sends that header repeatedly.
 */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string | string[]>;
    body?: string | Buffer;
  },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${options.path ?? '/graphql'}`,
      { method: options.method ?? 'POST' },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    for (const [name, value] of Object.entries(options.headers ?? {})) req.setHeader(name, value);
    req.end(options.body);
  });
}

let nextAddress = 1;
/**
 * A client address no test in this file used yet (TEST-NET-3, then 10.x), for X-Forwarded-For
 * under TRUST_PROXY=loopback.
 */
export const freshAddress = () => {
  const n = nextAddress++;
  return n < 255 ? `203.0.113.${n}` : `10.0.${Math.floor(n / 255)}.${n % 255}`;
};
