/**
 * Who may talk to the server. On loopback without a token: only requests whose Host is a loopback name (this
 * stops a web page from reaching the server through DNS rebinding). With a token (required on any other bind):
 * the token from the `token` query parameter (which also sets an HttpOnly cookie), the cookie, or an
 * `Authorization: Bearer` header. Requests that change state must come from the page's own origin.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-error.js';

export const TOKEN_COOKIE = 'recist3d_token';
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function hostName(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  return hostHeader.replace(/:\d+$/, '');
}

function sameToken(a: string | undefined, token: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(token);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/** The onRequest check; `token` undefined = loopback mode. */
export function accessCheck(token: string | undefined) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const host = hostName(req.headers.host);
    if (token === undefined) {
      if (!LOOPBACK_HOSTS.has(host) && !/^127\.\d+\.\d+\.\d+$/.test(host))
        throw new HttpError(
          403,
          'E_HOST',
          `Host "${host}" is not a loopback name; open the URL the server printed`,
        );
    } else {
      const query = (req.query as Record<string, unknown> | undefined)?.token;
      const bearer = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
      const fromQuery = typeof query === 'string' ? query : undefined;
      if (!(
        sameToken(fromQuery, token) ||
        sameToken(bearer, token) ||
        sameToken(cookie(req, TOKEN_COOKIE), token)
      ))
        throw new HttpError(
          401,
          'E_TOKEN',
          'Missing or wrong access token: open the URL with ?token= that the server printed',
        );
      if (sameToken(fromQuery, token))
        reply.header('set-cookie', `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const origin = req.headers.origin;
      if (origin !== undefined && hostName(origin.replace(/^https?:\/\//, '')) !== host)
        throw new HttpError(403, 'E_ORIGIN', `Requests from origin ${origin} are not accepted`);
    }
  };
}

/** Headers on every answer: no sniffing, no framing, no referrer, scripts only from the server itself. */
export function securityHeaders(reply: FastifyReply): void {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'no-referrer');
  reply.header(
    'content-security-policy',
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self' blob: data:; object-src 'none'; frame-ancestors 'none'",
  );
}
