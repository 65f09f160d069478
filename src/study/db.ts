/**
 * Reader-study storage: one SQLite file per run (`study.sqlite`), WAL journal, synchronous=FULL. Every answer
 * is committed before the call returns, so an answer the page was told about survives a kill -9 of the server.
 */
import Database from 'better-sqlite3';
import { Recist3dError } from '../errors.js';
import { STUDY_ANSWERS, type StudyAnswer, type StudyKind, type StudySession } from './kinds.js';
import { planSeed, type Method, type PlanItem } from './plan.js';

/** One stored answer, with the methods that were behind the screen. */
export interface AnswerRow {
  reader: string;
  kind: StudyKind;
  position: number;
  lesionId: string;
  /** The key's meaning as shown: accept/reject, left/right/both/neither. */
  answer: StudyAnswer;
  /** The methods shown, comma-separated (comparison: left,right). */
  shown: string;
  answeredAt: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS readers (
  reader TEXT NOT NULL, kind TEXT NOT NULL, seed INTEGER NOT NULL, created_at TEXT NOT NULL,
  PRIMARY KEY (reader, kind));
CREATE TABLE IF NOT EXISTS plan (
  reader TEXT NOT NULL, kind TEXT NOT NULL, position INTEGER NOT NULL, lesion_id TEXT NOT NULL, shown TEXT NOT NULL,
  PRIMARY KEY (reader, kind, position));
CREATE TABLE IF NOT EXISTS answers (
  reader TEXT NOT NULL, kind TEXT NOT NULL, position INTEGER NOT NULL, lesion_id TEXT NOT NULL,
  answer TEXT NOT NULL, shown TEXT NOT NULL, answered_at TEXT NOT NULL,
  PRIMARY KEY (reader, kind, position));
CREATE TABLE IF NOT EXISTS answer_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT, reader TEXT NOT NULL, kind TEXT NOT NULL, position INTEGER NOT NULL,
  lesion_id TEXT NOT NULL, answer TEXT NOT NULL, answered_at TEXT NOT NULL);
`;

/** A reader name: 1..64 characters, letters, digits, space, dot, dash, underscore, @. */
export const READER_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._@-]{0,63}$/u;

/** The study database of one run. A stateful handle: `close()` it. */
export class StudyDb {
  private readonly db: Database.Database;

  constructor(readonly path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  /**
   * The reader's session; on the first visit the plan `makePlan(seed)` is stored, later visits reuse the stored
   * plan (so the order survives a changed run or code).
   */
  session(kind: StudyKind, reader: string, makePlan: (seed: number) => PlanItem[]): StudySession {
    checkReader(reader);
    const known = this.db.prepare('SELECT seed FROM readers WHERE reader = ? AND kind = ?').get(reader, kind);
    if (!known) {
      const seed = planSeed(kind, reader);
      const plan = makePlan(seed);
      const insert = this.db.prepare(
        'INSERT INTO plan (reader, kind, position, lesion_id, shown) VALUES (?, ?, ?, ?, ?)',
      );
      this.db.transaction(() => {
        this.db
          .prepare('INSERT INTO readers (reader, kind, seed, created_at) VALUES (?, ?, ?, ?)')
          .run(reader, kind, seed, new Date().toISOString());
        plan.forEach((p, i) => insert.run(reader, kind, i, p.lesionId, p.shown.join(',')));
      })();
    }
    return this.state(kind, reader);
  }

  /** Position of the first unanswered item (= total when done), totals. */
  state(kind: StudyKind, reader: string): StudySession {
    const total = this.count('SELECT COUNT(*) AS n FROM plan WHERE reader = ? AND kind = ?', reader, kind);
    const answered = this.count(
      'SELECT COUNT(*) AS n FROM answers WHERE reader = ? AND kind = ?',
      reader,
      kind,
    );
    const row = this.db
      .prepare(
        `SELECT MIN(p.position) AS pos FROM plan p LEFT JOIN answers a
           ON a.reader = p.reader AND a.kind = p.kind AND a.position = p.position
         WHERE p.reader = ? AND p.kind = ? AND a.position IS NULL`,
      )
      .get(reader, kind) as { pos: number | null };
    return { reader, kind, total, answered, position: row.pos ?? total };
  }

  /** The plan item at `position` and the reader's answer to it, or undefined outside the plan. */
  item(
    kind: StudyKind,
    reader: string,
    position: number,
  ): { lesionId: string; shown: Method[]; answer: StudyAnswer | null } | undefined {
    const p = this.db
      .prepare('SELECT lesion_id, shown FROM plan WHERE reader = ? AND kind = ? AND position = ?')
      .get(reader, kind, position) as { lesion_id: string; shown: string } | undefined;
    if (!p) return undefined;
    const a = this.db
      .prepare('SELECT answer FROM answers WHERE reader = ? AND kind = ? AND position = ?')
      .get(reader, kind, position) as { answer: StudyAnswer } | undefined;
    return { lesionId: p.lesion_id, shown: p.shown.split(',') as Method[], answer: a?.answer ?? null };
  }

  /** Stores (or replaces) an answer and logs it, in one committed transaction. */
  answer(kind: StudyKind, reader: string, position: number, answer: StudyAnswer): StudySession {
    if (!(STUDY_ANSWERS[kind] as readonly string[]).includes(answer))
      throw new Recist3dError('E_USAGE', `"${answer}" is not an answer of the ${kind} study`, {
        field: 'answer',
      });
    const item = this.item(kind, reader, position);
    if (!item)
      throw new Recist3dError('E_USAGE', `No item ${position} in ${reader}'s ${kind} study`, {
        field: 'position',
      });
    const at = new Date().toISOString();
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO answers (reader, kind, position, lesion_id, answer, shown, answered_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (reader, kind, position) DO UPDATE SET answer = excluded.answer, answered_at = excluded.answered_at`,
        )
        .run(reader, kind, position, item.lesionId, answer, item.shown.join(','), at);
      this.db
        .prepare(
          'INSERT INTO answer_log (reader, kind, position, lesion_id, answer, answered_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(reader, kind, position, item.lesionId, answer, at);
    })();
    return this.state(kind, reader);
  }

  /** Every current answer, by kind, reader and position. */
  answers(): AnswerRow[] {
    return (
      this.db
        .prepare(
          `SELECT reader, kind, position, lesion_id AS lesionId, answer, shown, answered_at AS answeredAt
           FROM answers ORDER BY kind, reader, position`,
        )
        .all() as AnswerRow[]
    ).map((r) => ({ ...r }));
  }

  close(): void {
    this.db.close();
  }

  private count(sql: string, ...args: unknown[]): number {
    return (this.db.prepare(sql).get(...args) as { n: number }).n;
  }
}

function checkReader(reader: string): void {
  if (!READER_PATTERN.test(reader))
    throw new Recist3dError(
      'E_USAGE',
      'A reader name is 1 to 64 letters, digits, spaces or . _ @ - and starts with a letter or digit',
      { field: 'reader' },
    );
}
