import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeXml } from './escape.js';

test('escapeXml escapes & < > " (ampersand first, so entities are not double-escaped) and stringifies numbers', () => {
  assert.equal(escapeXml('a < b & "c" > d'), 'a &lt; b &amp; &quot;c&quot; &gt; d');
  assert.equal(escapeXml("it's"), "it's");
  assert.equal(escapeXml(0.5), '0.5');
});
