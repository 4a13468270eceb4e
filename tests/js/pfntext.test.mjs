import { test } from 'node:test';
import assert from 'node:assert/strict';

import { decimalTitle, parsePfn, pfnParts, pfnWithDecimal } from '../../frontend/lib/pfntext.js';

test('a sentence splits at its hex pfns, each with its decimal value', () => {
  const msg = 'pfn 0x16000 (order 9) merges with its free buddy pfn 0x16200 = 0x16000 ^ 0x200: one order-10 block at pfn 0x16000';
  const parts = pfnParts(msg);
  assert.equal(parts.map((p) => (typeof p === 'string' ? p : p.hex)).join(''), msg);
  assert.deepEqual(
    parts.filter((p) => typeof p !== 'string'),
    [
      { hex: '0x16000', value: 90112 },
      { hex: '0x16200', value: 90624 },
      { hex: '0x16000', value: 90112 },
      { hex: '0x200', value: 512 },
      { hex: '0x16000', value: 90112 },
    ],
  );
  // No number: the text itself; a decimal order or count is no pfn.
  assert.deepEqual(pfnParts('order-3 block, 512 pages'), ['order-3 block, 512 pages']);
  assert.deepEqual(pfnParts(''), ['']);
  // A hex word inside another word is not a number of its own.
  assert.deepEqual(pfnParts('x0x10'), ['x0x10']);
  assert.deepEqual(pfnParts('0x0'), [{ hex: '0x0', value: 0 }]);
});

test('decimal on hover, in a title or label', () => {
  assert.equal(decimalTitle(90112), '90112 in decimal');
  assert.equal(pfnWithDecimal(90112), '0x16000 (90112)');
});

test('a typed pfn is hex or decimal, anything else is refused', () => {
  assert.equal(parsePfn('0x16000'), 90112);
  assert.equal(parsePfn(' 0X1f '), 31);
  assert.equal(parsePfn('90112'), 90112);
  for (const bad of ['', '0x', '-1', '1e3', '12abc', '0x1g', 'pfn 3']) assert.equal(parsePfn(bad), null, bad);
});
