import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  blockSize,
  formatBytes,
  formatPfn,
  layoutZone,
  listItems,
  migratetypeSlug,
} from '../../frontend/lib/layout.js';

const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);

/** Number of blocks a list of items stands for (drawn blocks + counted gaps). */
const represented = (items) =>
  items.reduce((n, item) => n + (item.kind === 'gap' ? item.count : 1), 0);

test('a short list is drawn whole, head first', () => {
  const items = listItems({ count: 3, head: [8, 0, 4], tail: [] }, 4);
  assert.deepEqual(items, [
    { kind: 'block', pfn: 8, position: 0 },
    { kind: 'block', pfn: 0, position: 1 },
    { kind: 'block', pfn: 4, position: 2 },
  ]);
});

test('an empty list has no items', () => {
  assert.deepEqual(listItems({ count: 0, head: [], tail: [] }, 4), []);
});

test('a long list keeps both ends and counts the middle', () => {
  const pfns = range(0, 100).map((i) => i * 1024);
  const slice = { count: 1000, head: pfns.slice(0, 8), tail: pfns.slice(92) };
  const items = listItems(slice, 3);
  assert.deepEqual(
    items.map((i) => (i.kind === 'gap' ? `gap ${i.count}` : i.pfn)),
    [0, 1024, 2048, 'gap 994', 97 * 1024, 98 * 1024, 99 * 1024],
  );
  assert.equal(items.at(-1).position, 999, 'the last block keeps its position in the list');
  assert.equal(represented(items), 1000);
});

test('a complete list longer than both ends is cut client-side', () => {
  const slice = { count: 12, head: range(100, 112), tail: [] };
  const items = listItems(slice, 2);
  assert.deepEqual(
    items.map((i) => (i.kind === 'gap' ? `gap ${i.count}` : i.pfn)),
    [100, 101, 'gap 8', 110, 111],
  );
});

test('a gap of exactly one known block shows the block instead', () => {
  const items = listItems({ count: 5, head: range(0, 5), tail: [] }, 2);
  assert.equal(items.length, 5);
  assert.ok(items.every((i) => i.kind === 'block'));
});

test('every list shape is represented exactly by its items', () => {
  for (let count = 0; count < 40; count += 1) {
    for (const serverEnds of [1, 3, 8]) {
      for (const maxEnds of [1, 2, 4, 10]) {
        const full = range(0, count).map((i) => i * 2);
        const slice =
          count <= 2 * serverEnds
            ? { count, head: full, tail: [] }
            : { count, head: full.slice(0, serverEnds), tail: full.slice(count - serverEnds) };
        const items = listItems(slice, maxEnds);
        assert.equal(represented(items), count, `count ${count} ends ${serverEnds}/${maxEnds}`);
        const blocks = items.filter((i) => i.kind === 'block');
        for (const b of blocks) assert.equal(b.pfn, full[b.position]);
        const positions = blocks.map((b) => b.position);
        assert.deepEqual(positions, [...positions].sort((a, b) => a - b), 'head to tail order');
        for (let k = 1; k < items.length; k += 1) {
          assert.ok(!(items[k].kind === 'gap' && items[k - 1].kind === 'gap'), 'no two gaps in a row');
        }
      }
    }
  }
});

test('layoutZone makes one row per order with lanes for non-empty lists only', () => {
  const empty = { count: 0, head: [], tail: [] };
  const zone = {
    name: 'Normal',
    start_pfn: 4096,
    spanned_pages: 4096,
    nr_free: [2, 0, 1],
    free_pages: 6,
    free_lists: {
      Unmovable: [{ count: 1, head: [4097], tail: [] }, empty, empty],
      Movable: [{ count: 1, head: [4099], tail: [] }, empty, { count: 1, head: [4100], tail: [] }],
    },
  };
  const layout = layoutZone(zone, ['Unmovable', 'Movable', 'Isolate'], { maxEnds: 4 });
  assert.equal(layout.firstPfn, 4096);
  assert.equal(layout.lastPfn, 8191);
  assert.deepEqual(
    layout.rows.map((r) => [r.order, r.nrFree, r.lanes.map((l) => l.migratetype)]),
    [
      [0, 2, ['Unmovable', 'Movable']],
      [1, 0, []],
      [2, 1, ['Movable']],
    ],
  );
  assert.equal(layout.rows[2].blockSize, '16 KiB');
});

test('nr_free is shown as sent, even when the lists disagree', () => {
  // The page never recomputes what the model decided.
  const zone = {
    name: 'Z', start_pfn: 0, spanned_pages: 1, nr_free: [7], free_pages: 7,
    free_lists: { Movable: [{ count: 1, head: [0], tail: [] }] },
  };
  assert.equal(layoutZone(zone, ['Movable']).rows[0].nrFree, 7);
});

test('formatting helpers', () => {
  assert.equal(formatBytes(4096), '4 KiB');
  assert.equal(formatBytes(1536 * 1024 * 1024), '1.5 GiB');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(blockSize(0), '4 KiB');
  assert.equal(blockSize(9), '2 MiB');
  assert.equal(blockSize(10), '4 MiB');
  assert.equal(formatPfn(255), '0xff');
  assert.equal(migratetypeSlug('HighAtomic'), 'highatomic');
  assert.equal(migratetypeSlug('CMA'), 'cma');
});
