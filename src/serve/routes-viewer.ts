/** The viewer's API: the run, its lesion list, and per lesion its CT slab and masks (by lesion id only). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { LesionDetail } from './api-types.js';
import { notFound } from './http-error.js';
import type { LesionEntry, RunIndex } from './run-index.js';
import { cutSlab, niftiBytes, packMasks, slabInfo, slabRange } from './slab.js';
import { thinSlabRange } from './thin-slab.js';
import type { VolumeCache } from './volume-cache.js';

/** The run's own files the page may open, by name. */
const RUN_FILES: Record<string, string> = {
  'report.html': 'text/html; charset=utf-8',
  'lesions.csv': 'text/csv; charset=utf-8',
  'metrics.json': 'application/json',
};

export const ID_PARAMS = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 200 } },
  required: ['id'],
} as const;

/** The lesion with this id, with an image, or a 404. */
export function lesionWithImage(index: RunIndex, id: string): LesionEntry & { files: { image: string } } {
  const l = index.byId.get(id);
  if (!l) throw notFound(`Lesion "${id}"`);
  if (!l.files.image) throw notFound(`The image of lesion "${id}"`);
  return l as LesionEntry & { files: { image: string } };
}

/** The slab of a lesion and, once read, its image. */
export async function lesionSlab(cache: VolumeCache, l: LesionEntry & { files: { image: string } }) {
  const image = await cache.get(l.files.image);
  const range = slabRange(l.info, image.size[2]);
  return { image, range, slab: slabInfo(image, range) };
}

export function viewerRoutes(app: FastifyInstance, index: RunIndex, cache: VolumeCache): void {
  app.get('/api/run', async () => index.info);
  app.get('/api/lesions', async () => index.lesions.map((l) => l.info));

  app.get('/api/lesions/:id', { schema: { params: ID_PARAMS } }, async (req) => {
    const { id } = req.params as { id: string };
    const l = lesionWithImage(index, id);
    const { slab } = await lesionSlab(cache, l);
    return { ...l.info, slab } satisfies LesionDetail;
  });

  // ?thin=1: only the slices around the RECIST slice (thinSlabRange), which the page shows first
  app.get(
    '/api/lesions/:id/ct.nii',
    {
      schema: {
        params: ID_PARAMS,
        querystring: {
          type: 'object',
          properties: { thin: { type: 'integer', enum: [0, 1] }, token: { type: 'string' } },
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      const l = lesionWithImage(index, (req.params as { id: string }).id);
      const { image, range, slab } = await lesionSlab(cache, l);
      const thin = (req.query as { thin?: number }).thin === 1;
      reply.type('application/octet-stream').header('cache-control', 'private, max-age=300');
      return niftiBytes(cutSlab(image, thin ? thinSlabRange(slab, l.info.keySlice) : range));
    },
  );

  app.get('/api/lesions/:id/masks.bin', { schema: { params: ID_PARAMS } }, async (req, reply) => {
    const l = lesionWithImage(index, (req.params as { id: string }).id);
    // the masks are read while the image is (the slab's range needs the image's grid)
    const masks = Promise.all([l.files.prediction, l.files.truth].map((p) => (p ? cache.get(p) : undefined)));
    masks.catch(() => undefined); // awaited below; not an unhandled rejection when the image fails first
    const { image, range } = await lesionSlab(cache, l);
    const [pred, truth] = await masks;
    reply.type('application/octet-stream').header('cache-control', 'private, max-age=300');
    return Buffer.from(packMasks([pred, truth], range, image.size[0] * image.size[1]).buffer);
  });

  // the lesion's whole source image, as the manifest names it (the benchmark's peer loads this)
  app.get('/api/lesions/:id/image', { schema: { params: ID_PARAMS } }, async (req, reply) => {
    const l = lesionWithImage(index, (req.params as { id: string }).id);
    reply.type('application/octet-stream').header('cache-control', 'private, max-age=300');
    return reply.send(await readFile(l.files.image));
  });

  app.get(
    '/run/:name',
    { schema: { params: { type: 'object', properties: { name: { type: 'string', maxLength: 40 } } } } },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      const type = Object.hasOwn(RUN_FILES, name) ? RUN_FILES[name] : undefined;
      if (!type) throw notFound(`Run file "${name}"`);
      let body: Buffer;
      try {
        body = await readFile(join(index.runDir, name));
      } catch {
        throw notFound(`Run file "${name}"`);
      }
      return reply.type(type).send(body);
    },
  );
}
