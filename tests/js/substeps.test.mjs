import { test } from 'node:test';
import assert from 'node:assert/strict';

import { LISTINGS, lineIndex } from '../../frontend/lib/pseudocode.js';
import { eventsTouching, locate, nextSubstep, OWN_KINDS, touches } from '../../frontend/lib/substeps.js';

const ev = (kind, fields = {}) => ({ kind, fn: 'f', zone: 'Normal', message: kind, ...fields });

/** Where each event of a step is, as "function:line-id". */
const places = (events, options) =>
  events.map((_, i) => {
    const p = locate(events, i, options);
    return p ? `${p.fn}:${LISTINGS[p.fn].lines[p.line].id}` : null;
  });

/** An order-0 allocation from an order-2 block (the model's events, as the wire has them). */
const CASCADE = [
  ev('user'),
  ev('list_del', { fn: 'del_page_from_free_list', pfn: 0, order: 2, end: 'only', reason: 'allocation takes the list head' }),
  ev('split', { fn: 'expand', pfn: 0, order: 2, half_pfn: 2 }),
  ev('list_add', { fn: 'add_to_free_list', pfn: 2, order: 1, end: 'head', before: null }),
  ev('split', { fn: 'expand', pfn: 0, order: 1, half_pfn: 1 }),
  ev('list_add', { fn: 'add_to_free_list', pfn: 1, order: 0, end: 'head', before: null }),
  ev('alloc', { fn: '__alloc_pages_nodemask', pfn: 0, order: 0 }),
];

test('a split cascade: the list head taken, each halving and upper half in expand(), the block returned', () => {
  assert.deepEqual(places(CASCADE), [
    null,
    '__rmqueue_smallest:del',
    'expand:halve',
    'expand:add',
    'expand:halve',
    'expand:add',
    'get_page_from_freelist:got',
  ]);
});

test('a free: each buddy taken off its list and merged, the stop, and the end the block lands on', () => {
  const events = [
    ev('free', { pfn: 0, order: 0 }),
    ev('list_del', { pfn: 1, order: 0, reason: 'merging with its buddy' }),
    ev('merge', { pfn: 0, buddy: 1, order: 0 }),
    ev('merge_stop', { pfn: 0, order: 1, buddy: 2, reason: 'its buddy is allocated' }),
    ev('list_add', { pfn: 0, order: 1, end: 'tail', before: null }),
  ];
  assert.deepEqual(places(events), ['__free_one_page:sig', '__free_one_page:del', '__free_one_page:combine', '__free_one_page:stop', '__free_one_page:tail']);
  const top = [ev('merge_stop', { pfn: 0, order: 10, buddy: null, reason: 'order 10 is the largest (MAX_ORDER - 1)' }), ev('list_add', { pfn: 0, order: 10, end: 'head' })];
  assert.deepEqual(places(top), ['__free_one_page:loop', '__free_one_page:head']);
  // 6.12: a merge above pageblock_order retypes the buddy's pageblock first.
  const retype = ev('pageblock_retype', { pfn: 512, reason: '__free_one_page() merges it with a block of this type' });
  assert.deepEqual(places([retype]), ['__free_one_page:retype']);
  // v2: a tail insert lands before the boundary; it is still the tail line.
  assert.deepEqual(places([ev('free', { pfn: 0, order: 9 }), ev('list_add', { pfn: 0, order: 9, end: 'tail', before: 512 })])[1], '__free_one_page:tail');
});

test('a fallback: the steal, the pageblock retyped, its free blocks moved, then the ordinary allocation', () => {
  // Below a pageblock: boost, move_freepages_block, then the pageblock may change type.
  const small = [ev('fallback', { order: 0, current_order: 3 }), ev('watermark_boost', { fn: 'boost_watermark' }), ev('list_move', { pfn: 8, order: 3 }), ev('pageblock_retype', { pfn: 0 })];
  assert.deepEqual(places(small), ['__rmqueue_fallback:found', '__rmqueue_fallback:boost', '__rmqueue_fallback:move', '__rmqueue_fallback:retype']);
  // A whole order-10 block: its two pageblocks change type, and it moves by itself.
  const events = [
    ev('fallback', { order: 0, current_order: 10 }),
    ev('pageblock_retype', { pfn: 1024 }),
    ev('list_move', { pfn: 1024, order: 10 }),
    ev('list_del', { pfn: 1024, order: 10, reason: 'allocation takes the list head' }),
    ev('split', { pfn: 1024, order: 10, half_pfn: 1536 }),
    ev('list_add', { pfn: 1536, order: 9, end: 'head' }),
    ev('alloc', { pfn: 1024, order: 0 }),
    ev('watermark_boost', { fn: 'balance_pgdat' }),
  ];
  assert.deepEqual(places(events), [
    '__rmqueue_fallback:found',
    '__rmqueue_fallback:range',
    '__rmqueue_fallback:single',
    '__rmqueue_smallest:del',
    'expand:halve',
    'expand:add',
    'get_page_from_freelist:got',
    'balance_pgdat:clear',
  ]);
});

test('a reporting pass: gate, isolation into the batch, rotation, report, putback through __free_one_page, the flag', () => {
  const batch = Array.from({ length: 32 }, (_, i) => [i * 512, 9]);
  const events = [
    ev('state', { fn: 'page_reporting_process', old: 'REQUESTED', new: 'ACTIVE', reason: 'pass 1 starts' }),
    ev('zone_skip', { fn: 'page_reporting_process_zone', zone: 'DMA' }),
    ev('list_del', { fn: 'del_page_from_free_list', pfn: 0, order: 9, reason: 'isolated for reporting' }),
    ev('isolate', { fn: 'page_reporting_cycle', pfn: 0, order: 9, slot: 31 }),
    ev('rotate', { fn: 'list_rotate_to_front', pfn: 16384, order: 9 }),
    ev('report', { fn: 'virtballoon_free_page_report', blocks: batch }),
    ev('putback', { fn: '__putback_isolated_page', pfn: 0, order: 9 }),
    ev('merge_stop', { pfn: 0, order: 9, buddy: 512, reason: 'its buddy is isolated' }),
    ev('list_add', { fn: 'add_to_free_list_tail', pfn: 0, order: 9, end: 'tail' }),
    ev('flag_set', { fn: '__SetPageReported', pfn: 0, order: 9 }),
    ev('flag_skip', { fn: 'page_reporting_drain', pfn: 512, order: 9 }),
    ev('report', { fn: 'virtballoon_free_page_report', blocks: batch.slice(0, 3) }),
    ev('rotate', { fn: 'list_rotate_to_front', pfn: 1024, order: 9 }),
    ev('state', { fn: 'page_reporting_process', old: 'ACTIVE', new: 'REQUESTED', reason: 'the budget ran out' }),
    ev('request', { fn: 'page_reporting_process' }),
    ev('state', { fn: 'page_reporting_process', old: 'ACTIVE', new: 'IDLE', reason: 'done' }),
    ev('state', { fn: 'page_reporting_process', old: 'IDLE', new: 'REQUESTED', reason: 'an order-9 free in zone Normal requests reporting' }),
    ev('request', { fn: '__page_reporting_request' }),
    ev('flag_clear', { fn: '__ClearPageReported', pfn: 0, order: 9 }),
    ev('list_del', { pfn: 0, order: 9, reason: 'allocation takes the list head' }),
    ev('alloc', { pfn: 0, order: 9 }),
  ];
  assert.deepEqual(places(events), [
    'page_reporting_process:active',
    'page_reporting_process_zone:skip',
    'page_reporting_cycle:isolate',
    'page_reporting_cycle:sg',
    'page_reporting_cycle:rotate',
    'page_reporting_cycle:report',
    'page_reporting_drain:putback',
    '__free_one_page:stop',
    '__free_one_page:tail',
    'page_reporting_drain:set',
    'page_reporting_drain:same',
    'page_reporting_process_zone:report',
    'page_reporting_cycle:leftover',
    'page_reporting_cycle:over',
    'page_reporting_process:schedule',
    'page_reporting_process:idle',
    '__page_reporting_request:xchg',
    '__page_reporting_request:schedule',
    '__rmqueue_smallest:del',
    '__rmqueue_smallest:del',
    'get_page_from_freelist:got',
  ]);
});

test('a v2 hinting cycle: request, ACTIVE, fill by get_unhinted_page, react, drain by put_hinted_page, the boundary', () => {
  const events = [
    ev('state', { fn: '__page_hinting_request', what: 'ZONE_PAGE_HINTING_REQUESTED', old: 'clear', new: 'set' }),
    ev('request', { fn: '__page_hinting_request' }),
    ev('state', { fn: 'page_hinting_cycle', what: 'ZONE_PAGE_HINTING_ACTIVE', old: 'clear', new: 'set' }),
    ev('list_del', { pfn: 0, order: 9, reason: 'taken for hinting' }),
    ev('isolate', { fn: 'get_unhinted_page', pfn: 0, order: 9, slot: 0 }),
    ev('boundary', { fn: 'page_hinting_add_to_boundary', pfn: 512, order: 9, reason: 'the whole list is hinted' }),
    ev('state', { fn: '__page_hinting_request', what: 'ZONE_PAGE_HINTING_REQUESTED', old: 'set', new: 'clear' }),
    ev('report', { fn: 'virtballoon_page_hinting_react', blocks: [[0, 9]] }),
    ev('putback', { fn: 'put_hinted_page', pfn: 0, order: 9 }),
    ev('merge_stop', { pfn: 0, order: 9, buddy: 512, reason: 'its buddy is hinted' }),
    ev('list_add', { fn: 'add_to_free_list_tail', pfn: 0, order: 9, end: 'tail', before: 512 }),
    ev('boundary', { fn: 'page_hinting_add_to_boundary', pfn: 0, order: 9, reason: 'the block it returned is now the first hinted one' }),
    ev('flag_set', { fn: 'SetPageHinted', pfn: 0, order: 9 }),
    ev('flag_skip', { fn: 'put_hinted_page', pfn: 1024, order: 9 }),
    ev('state', { fn: 'page_hinting_cycle', what: 'ZONE_PAGE_HINTING_ACTIVE', old: 'set', new: 'clear' }),
    ev('list_del', { pfn: 0, order: 9, reason: 'allocation takes the list head' }),
    ev('flag_clear', { fn: 'clear_page_hinted', pfn: 0, order: 9 }),
    ev('boundary', { fn: 'page_hinting_add_to_boundary', pfn: 512, order: 9, reason: 'the block it pointed at leaves the list' }),
  ];
  assert.deepEqual(places(events), [
    '__page_hinting_request:requested',
    '__page_hinting_request:schedule',
    'page_hinting_cycle:active',
    'page_hinting_fill:get',
    'page_hinting_fill:get',
    'page_hinting_fill:get',
    'page_hinting_fill:done',
    'page_hinting_cycle:react',
    'page_hinting_drain:free',
    '__free_one_page:stop',
    '__free_one_page:tail',
    'page_hinting_drain:boundary',
    'page_hinting_drain:set',
    'page_hinting_drain:merged',
    'page_hinting_cycle:inactive',
    '__rmqueue_smallest:del',
    '__rmqueue_smallest:del',
    '__rmqueue_smallest:del',
  ]);
});

test('per-cpu lists, refaults and a zone skipped by the allocator have their lines too', () => {
  assert.deepEqual(
    places([
      ev('pcp_add', { pfn: 7 }),
      ev('pcp_drain', {}),
      ev('list_del', { pfn: 8, order: 0, reason: 'rmqueue_bulk' }),
      ev('pcp_refill', {}),
      ev('pcp_del', { pfn: 8 }),
      ev('refault', { pfn: 0, order: 9 }),
      ev('zone_skip', { fn: 'get_page_from_freelist' }),
    ]),
    ['free_unref_page_commit:add', 'free_unref_page_commit:bulk', '__rmqueue_pcplist:refill', '__rmqueue_pcplist:refill', '__rmqueue_pcplist:del', 'handle_mm_fault:host', 'get_page_from_freelist:skip'],
  );
  for (const kind of OWN_KINDS) assert.equal(locate([ev(kind)], 0), null);
});

test('every listing is short, in kernel names, with unique line ids', () => {
  for (const [name, l] of Object.entries(LISTINGS)) {
    assert.equal(l.name, name);
    assert.ok(l.lines.length >= 6 && l.lines.length <= 15, `${name}: ${l.lines.length} lines`);
    assert.equal(new Set(l.lines.map((x) => x.id)).size, l.lines.length, `${name}: duplicate line ids`);
    assert.match(l.file, /^mm\//);
    // Which kernel the lines follow: the v2 functions the 2019 patches, the rest 5.10.
    assert.equal(l.source, name.includes('hinting') ? 'the v2 patches, July 2019' : name === 'handle_mm_fault' ? 'the guest, then the host' : 'Linux 5.10');
  }
  assert.equal(lineIndex('expand', 'add'), 4);
  assert.equal(lineIndex('expand', 'nope'), -1);
  assert.equal(lineIndex('nope', 'add'), -1);
});

test('what an event touched: a split the block and its upper half, a merge the buddy and the result, a report its batch', () => {
  assert.deepEqual(touches(CASCADE[2]), [
    { zone: 'Normal', pfn: 0, order: 2 },
    { zone: 'Normal', pfn: 2, order: 1 },
  ]);
  assert.deepEqual(touches(ev('merge', { pfn: 4, buddy: 0, order: 2 })), [
    { zone: 'Normal', pfn: 0, order: 2 },
    { zone: 'Normal', pfn: 0, order: 3 },
  ]);
  assert.deepEqual(touches(ev('report', { blocks: [[512, 9], [0, 9]] })).map((b) => b.pfn), [512, 0]);
  assert.deepEqual(touches(ev('pageblock_retype', { pfn: 1024 }), 9), [{ zone: 'Normal', pfn: 1024, order: 9 }]);
  assert.deepEqual(touches(ev('boundary', { pfn: null, order: 9 })), []);
  assert.deepEqual(touches(ev('state', {})), []);
});

test('the events of a step that touched a chip or a frame', () => {
  // The order-1 chip at pfn 2: the split that made it and its list_add.
  assert.deepEqual(eventsTouching(CASCADE, 'Normal', 2, 1), [1, 2, 3]);
  // Frame 1: everything about blocks holding it.
  assert.deepEqual(eventsTouching(CASCADE, 'Normal', 1), [1, 2, 4, 5]);
  // Frame 3 is only in the order-2 block taken and its upper half.
  assert.deepEqual(eventsTouching(CASCADE, 'Normal', 3), [1, 2, 3]);
  assert.deepEqual(eventsTouching(CASCADE, 'DMA', 2, 1), []);
});

test('sub-steps run from the whole step (-1) to the last event and stop at both ends', () => {
  assert.equal(nextSubstep(-1, 1, 7), 0);
  assert.equal(nextSubstep(6, 1, 7), 6);
  assert.equal(nextSubstep(0, -1, 7), -1);
  assert.equal(nextSubstep(-1, -1, 7), -1);
  assert.equal(nextSubstep(-1, 1, 0), -1);
});
