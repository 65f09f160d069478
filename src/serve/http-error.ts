/** An error the server answers with `status` and the JSON body `{ error: { code, message } }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what: string) => new HttpError(404, 'E_NOT_FOUND', `${what} not found`);
export const badRequest = (message: string) => new HttpError(400, 'E_BAD_REQUEST', message);
