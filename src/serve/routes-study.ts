/** The reader studies' API: a reader's session, one blinded screen at a time, and answers committed on receipt. */
import type { FastifyInstance } from 'fastify';
import { STUDY_ANSWERS, STUDY_KINDS, type AnswerAck, type StudyItem, type StudyKind } from './api-types.js';
import { badRequest, notFound } from './http-error.js';
import type { RunIndex } from './run-index.js';
import { lesionSlab, lesionWithImage } from './routes-viewer.js';
import { packMasks } from './slab.js';
import type { VolumeCache } from './volume-cache.js';
import { READER_PATTERN, type StudyDb } from '../study/db.js';
import { studyPlan, type Method } from '../study/plan.js';

const KIND = { type: 'string', enum: [...STUDY_KINDS] } as const;
const READER = { type: 'string', minLength: 1, maxLength: 64 } as const;
const POSITION = { type: 'integer', minimum: 0, maximum: 1_000_000 } as const;
const ITEM_SCHEMA = {
  params: { type: 'object', properties: { kind: KIND, position: POSITION }, required: ['kind', 'position'] },
  querystring: {
    type: 'object',
    properties: { reader: READER, token: { type: 'string' } },
    required: ['reader'],
    additionalProperties: false,
  },
} as const;

function reader(name: string): string {
  if (!READER_PATTERN.test(name))
    throw badRequest(
      'A reader name is 1 to 64 letters, digits, spaces or . _ @ - and starts with a letter or digit',
    );
  return name;
}

export function studyRoutes(app: FastifyInstance, index: RunIndex, cache: VolumeCache, db: StudyDb): void {
  const lesions = index.lesions
    .filter((l) => l.info.status === 'ok' && l.files.image && l.info.recist && l.info.keySlice !== null)
    .map((l) => ({
      lesionId: l.info.lesionId,
      hasPrediction: l.files.prediction !== undefined,
      hasTruth: l.files.truth !== undefined,
    }));

  const itemOf = (kind: StudyKind, name: string, position: number) => {
    const item = db.item(kind, reader(name), position);
    if (!item) throw notFound(`Item ${position} of ${name}'s ${kind} study`);
    return item;
  };

  app.post(
    '/api/study/:kind/session',
    {
      schema: {
        params: { type: 'object', properties: { kind: KIND }, required: ['kind'] },
        body: {
          type: 'object',
          properties: { reader: READER },
          required: ['reader'],
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      const { kind } = req.params as { kind: StudyKind };
      const name = reader((req.body as { reader: string }).reader);
      return db.session(kind, name, (seed) => studyPlan(kind, seed, lesions));
    },
  );

  app.get('/api/study/:kind/items/:position', { schema: ITEM_SCHEMA }, async (req) => {
    const { kind, position } = req.params as { kind: StudyKind; position: number };
    const name = (req.query as { reader: string }).reader;
    const item = itemOf(kind, name, position);
    const l = lesionWithImage(index, item.lesionId);
    const { slab } = await lesionSlab(cache, l);
    return {
      position,
      total: db.state(kind, name).total,
      lesionId: l.info.lesionId,
      category: l.info.category,
      keySlice: l.info.keySlice!,
      recist: l.info.recist!,
      window: l.info.window,
      slab,
      masks: item.shown.length,
      answer: item.answer,
    } satisfies StudyItem;
  });

  app.get('/api/study/:kind/items/:position/masks.bin', { schema: ITEM_SCHEMA }, async (req, reply) => {
    const { kind, position } = req.params as { kind: StudyKind; position: number };
    const item = itemOf(kind, (req.query as { reader: string }).reader, position);
    const l = lesionWithImage(index, item.lesionId);
    const { image, range } = await lesionSlab(cache, l);
    const path = (m: Method) => (m === 'auto' ? l.files.prediction : l.files.truth);
    const masks = await Promise.all(item.shown.map((m) => cache.get(path(m)!)));
    reply.type('application/octet-stream').header('cache-control', 'no-store');
    return Buffer.from(packMasks(masks, range, image.size[0] * image.size[1]).buffer);
  });

  app.post(
    '/api/study/:kind/answers',
    {
      schema: {
        params: { type: 'object', properties: { kind: KIND }, required: ['kind'] },
        body: {
          type: 'object',
          properties: {
            reader: READER,
            position: POSITION,
            answer: { type: 'string', enum: [...new Set(Object.values(STUDY_ANSWERS).flat())] },
          },
          required: ['reader', 'position', 'answer'],
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      const { kind } = req.params as { kind: StudyKind };
      const b = req.body as { reader: string; position: number; answer: AnswerAck['answer'] };
      if (!(STUDY_ANSWERS[kind] as readonly string[]).includes(b.answer))
        throw badRequest(`"${b.answer}" is not an answer of the ${kind} study`);
      itemOf(kind, b.reader, b.position);
      // synchronous, committed (WAL, synchronous=FULL) before the reply is sent
      const session = db.answer(kind, b.reader, b.position, b.answer);
      return { ok: true, position: b.position, answer: b.answer, session } satisfies AnswerAck;
    },
  );
}
