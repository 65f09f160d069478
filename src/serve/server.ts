/**
 * `recist3d serve`: the web viewer and reader studies of one finished run. Fastify serves the built page from
 * memory, the run's lesions through ids, and the study answers into `DIR/study.sqlite`.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { isRecist3dError } from '../errors.js';
import { StudyDb } from '../study/db.js';
import { loadAssets } from './assets.js';
import { SERVE_DEFAULTS, type ServeOptions } from './options.js';
import { HttpError } from './http-error.js';
import { loadRunIndex, type RunIndex } from './run-index.js';
import { studyRoutes } from './routes-study.js';
import { viewerRoutes } from './routes-viewer.js';
import { accessCheck, isLoopback, securityHeaders } from './security.js';
import { VolumeCache } from './volume-cache.js';
import { resolveOptions } from '../util/options.js';

export { SERVE_DEFAULTS, type ServeOptions } from './options.js';

/** Fastify's own request errors under the server's stable codes. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'E_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'E_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'E_MALFORMED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'E_MALFORMED',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'E_MALFORMED',
};

export interface RunningServer {
  app: FastifyInstance;
  index: RunIndex;
  /** URL to open (with ?token= when a token is required). */
  url: string;
  token?: string | undefined;
  close(): Promise<void>;
}

/** Builds the app without listening (tests use `app.inject`). */
export async function buildServer(
  runDir: string,
  options: ServeOptions = {},
): Promise<{ app: FastifyInstance; index: RunIndex; token?: string | undefined; db: StudyDb }> {
  const o = resolveOptions(SERVE_DEFAULTS, options);
  const index = await loadRunIndex(runDir, o.manifest || undefined);
  const assets = loadAssets(o.webDir);
  const token = o.token || (isLoopback(o.host) ? undefined : randomBytes(24).toString('hex'));
  const cache = new VolumeCache({ maxBytes: o.cacheMb * 1024 * 1024 });
  const db = new StudyDb(join(index.runDir, 'study.sqlite'));
  const app = Fastify({
    bodyLimit: o.bodyLimit,
    routerOptions: { maxParamLength: 256 },
    logger: false,
    // reject unknown fields instead of silently dropping them; the schemas are fixed in this code, so ajv need not
    // compile its meta-schema to check them at every start (about 100 ms)
    ajv: { customOptions: { removeAdditional: false, validateSchema: false } },
  });
  app.removeContentTypeParser('text/plain');
  app.addHook('onRequest', async (_req, reply) => securityHeaders(reply));
  app.addHook('onRequest', accessCheck(token));
  app.addHook('onClose', async () => db.close());
  app.setErrorHandler((err: FastifyError | HttpError | Error, _req, reply) => {
    if (err instanceof HttpError)
      return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    const fe = err as FastifyError;
    if (fe.validation) return reply.code(400).send({ error: { code: 'E_BAD_REQUEST', message: fe.message } });
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500)
      return reply
        .code(fe.statusCode)
        .send({ error: { code: FASTIFY_CODES[fe.code] ?? 'E_BAD_REQUEST', message: fe.message } });
    if (isRecist3dError(err)) {
      const status = err.code === 'E_USAGE' ? 400 : err.code === 'E_FILE_NOT_FOUND' ? 404 : 500;
      return reply.code(status).send({ error: { code: err.code, message: err.message } });
    }
    process.stderr.write(`[serve] ${err.stack ?? err.message}\n`);
    return reply
      .code(500)
      .send({ error: { code: 'E_INTERNAL', message: 'Internal error (see the server log)' } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      error: {
        code: 'E_NOT_FOUND',
        message: `No such page or API: ${req.method} ${req.url.split('?')[0]}`,
      },
    }),
  );
  viewerRoutes(app, index, cache);
  studyRoutes(app, index, cache, db);
  // the page: index.html for "/", built assets by exact name
  app.get('/*', async (req, reply) => {
    const path = req.url.split('?')[0];
    const asset = assets.get(path === '/' ? '/index.html' : path);
    if (!asset) throw new HttpError(404, 'E_NOT_FOUND', `No such page: ${path}`);
    reply.type(asset.type);
    if (path.startsWith('/assets/')) reply.header('cache-control', 'public, max-age=31536000, immutable');
    return reply.send(asset.body);
  });
  return { app, index, token, db };
}

/** Builds the app and listens; `url` is what to print. */
export async function startServer(runDir: string, options: ServeOptions = {}): Promise<RunningServer> {
  const o = resolveOptions(SERVE_DEFAULTS, options);
  const { app, index, token } = await buildServer(runDir, o);
  await app.listen({ host: o.host, port: o.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const shownHost = o.host.includes(':') ? `[${o.host}]` : o.host === '0.0.0.0' ? '127.0.0.1' : o.host;
  const url = `http://${shownHost}:${port}/${token ? `?token=${token}` : ''}`;
  return { app, index, url, token, close: () => app.close() };
}
