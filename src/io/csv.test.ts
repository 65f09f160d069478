import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvCell, csvText } from './csv.js';

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
