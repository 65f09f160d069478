import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRecist3dError } from '../errors.js';
import { csvCell, csvText, fixedCell, parseCsvRows, readCsvFile } from './csv.js';

test('csvCell quotes only cells holding a comma, quote or newline, doubling inner quotes', () => {
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell(1.5), '1.5');
  assert.equal(csvCell(''), '');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('two\nlines'), '"two\nlines"');
  assert.equal(csvCell('cr\r'), '"cr\r"');
});

test('csvText writes the header as given, one quoted line per row and a final newline', () => {
  assert.equal(
    csvText(
      ['id', 'note'],
      [
        ['a', 'x,y'],
        ['b', 3],
      ],
    ),
    'id,note\na,"x,y"\nb,3\n',
  );
  assert.equal(csvText(['id'], []), 'id\n');
});

test('parseCsvRows trims header and cells, skips blank lines, keeps line numbers; bad quoting is E_CSV_PARSE', () => {
  const { header, rows } = parseCsvRows('\uFEFF id , note\n a ,x\n\nb\n', 'f.csv', 'demo');
  assert.deepEqual(header, ['id', 'note']);
  assert.deepEqual(
    rows.map((r) => [r.record.id, r.record.note, r.info.lines]),
    [
      ['a', 'x', 2],
      ['b', undefined, 4],
    ],
  );
  assert.throws(
    () => parseCsvRows('id,note\na,"unclosed\n', 'f.csv', 'demo'),
    (e) =>
      isRecist3dError(e, 'E_CSV_PARSE') &&
      /Cannot parse demo CSV/.test(e.message) &&
      /f\.csv/.test(e.message),
  );
});

test('readCsvFile: a missing file is E_FILE_NOT_FOUND with the given message', async () => {
  await assert.rejects(
    readCsvFile(join(tmpdir(), 'recist3d-no-such-file.csv'), 'Thing'),
    (e) => isRecist3dError(e, 'E_FILE_NOT_FOUND') && /Thing not found/.test(e.message),
  );
});

test('fixedCell: fixed decimals, empty for undefined, NaN and infinities', () => {
  assert.equal(fixedCell(1.23456, 2), '1.23');
  assert.equal(fixedCell(0, 4), '0.0000');
  assert.equal(fixedCell(undefined, 2), '');
  assert.equal(fixedCell(Number.NaN, 2), '');
  assert.equal(fixedCell(Number.POSITIVE_INFINITY, 1), '');
});
