import { test } from 'node:test';
import assert from 'node:assert/strict';

import { formatThousandths, orderBands, unusableIndex, unusableLevel, unusableTable } from '../../frontend/lib/fragmentation.js';

// allocator_model/kernel/fragmentation.py on these free counts:
//   [unusable_free_index(counts, k) for k in range(11)] and unusable_index_text(zones)
const ZONES = [
  { name: 'DMA', counts: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3], unusable: [0, 0, 0, 0, 0, 0, 0, 0, 0, 66, 200] },
  { name: 'Normal', counts: [1931, 961, 641, 438, 217, 94, 31, 14, 4, 1, 367], unusable: [0, 4, 9, 16, 24, 33, 41, 46, 50, 53, 54] },
  { name: 'Empty', counts: Array(11).fill(0), unusable: Array(11).fill(1000) },
];
const DEBUGFS =
  'Node 0, zone      DMA 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.066 0.200 \n' +
  'Node 0, zone   Normal 0.000 0.004 0.009 0.016 0.024 0.033 0.041 0.046 0.050 0.053 0.054 \n' +
  'Node 0, zone    Empty 1.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 1.000 \n';

test('the index of each order equals allocator_model/kernel/fragmentation.py on the same counts', () => {
  for (const z of ZONES) assert.deepEqual(unusableIndex(z.counts), z.unusable, z.name);
});

test('the formula: the share of free pages in blocks below the order, in thousandths, rounded down', () => {
  let seed = 7;
  const rand = (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < 200; i += 1) {
    const nrFree = Array.from({ length: 11 }, () => (rand(3) === 0 ? 0 : rand(5000)));
    const pages = nrFree.map((n, k) => n * 2 ** k);
    const free = pages.reduce((a, b) => a + b, 0);
    const got = unusableIndex(nrFree);
    nrFree.forEach((_, j) => {
      const below = pages.slice(0, j).reduce((a, b) => a + b, 0);
      assert.equal(got[j], free === 0 ? 1000 : Math.floor((below * 1000) / free), `order ${j} of ${nrFree}`);
    });
    // Never decreasing with the order: a larger request can use fewer of the free pages.
    got.forEach((v, j) => j === 0 || assert.ok(v >= got[j - 1]));
  }
  assert.deepEqual(unusableIndex([0, 0, 0]), [1000, 1000, 1000]);
  assert.deepEqual(unusableIndex([0, 0, 1]), [0, 0, 0]);
  assert.deepEqual(unusableIndex([4, 0, 1]), [0, 500, 500]);
});

test("values print as the kernel's debugfs extfrag/unusable_index prints them", () => {
  const table = unusableTable(ZONES, 11);
  const text = table.zones
    .map((name, z) => `Node 0, zone ${name.padStart(8)} ${table.rows.map((r) => `${r.cells[z].text} `).join('')}\n`)
    .join('');
  assert.equal(text, DEBUGFS);
  assert.equal(formatThousandths(1000), '1.000');
  assert.equal(formatThousandths(7), '0.007');
  assert.equal(formatThousandths(-1000), '-1.000');
});

test('one row per order, one cell per zone, in zone order', () => {
  const table = unusableTable(ZONES, 11);
  assert.deepEqual(table.zones, ['DMA', 'Normal', 'Empty']);
  assert.deepEqual(table.rows.map((r) => r.order), [...Array(11).keys()]);
  for (const row of table.rows) {
    assert.deepEqual(row.cells.map((c) => c.value), ZONES.map((z) => z.unusable[row.order]));
  }
  assert.equal(
    table.rows[9].cells[0].label,
    'DMA, order 9: 6.6% of the free memory is in blocks too small for an order-9 request',
  );
});

test('a missing value is an empty cell, never a guess', () => {
  const table = unusableTable([{ name: 'Normal', unusable: [0, 500] }], 4);
  assert.deepEqual(table.rows.map((r) => r.cells[0].value), [0, 500, null, null]);
  assert.equal(table.rows[3].cells[0].text, '—');
  assert.match(table.rows[3].cells[0].label, /not known/);
});

test('shading steps', () => {
  assert.deepEqual([0, 99, 100, 249, 250, 499, 500, 749, 750, 1000].map(unusableLevel), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
});

test('orders cut into even bands of consecutive orders, the first ones one longer', () => {
  assert.deepEqual(orderBands(11, 2), [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]);
  assert.deepEqual(orderBands(10, 2), [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]);
  assert.deepEqual(orderBands(11, 3), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10]]);
  assert.deepEqual(orderBands(11, 1), [[...Array(11).keys()]]);
  // Never an empty band: more bands than orders gives one order a band.
  assert.deepEqual(orderBands(2, 4), [[0], [1]]);
});
