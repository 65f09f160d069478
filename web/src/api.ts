/** Requests to `recist3d serve`; every error becomes an Error with the server's code and message. */
import type { ApiError } from '../../src/serve/api-types';

export class ApiRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function check(res: Response): Promise<Response> {
  if (res.ok) return res;
  let code = 'E_HTTP';
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as ApiError;
    code = body.error.code;
    message = body.error.message;
  } catch {
    /* not JSON */
  }
  throw new ApiRequestError(res.status, code, message);
}

export async function getJson<T>(url: string): Promise<T> {
  return (await (await check(await fetch(url))).json()) as T;
}

export async function postJson<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await (await check(res)).json()) as T;
}

export async function getBytes(url: string): Promise<ArrayBuffer> {
  return (await check(await fetch(url))).arrayBuffer();
}

/** Shows a short message at the bottom of the page. */
export function toast(message: string, isError = false): void {
  const el = document.getElementById('toast')!;
  el.textContent = message;
  el.className = isError ? 'show error' : 'show';
  window.clearTimeout((el as unknown as { timer?: number }).timer);
  (el as unknown as { timer?: number }).timer = window.setTimeout(
    () => (el.className = ''),
    isError ? 6000 : 2500,
  );
}

export const enc = encodeURIComponent;
