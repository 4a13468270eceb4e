import { test } from 'node:test';
import assert from 'node:assert/strict';

import { EVENTS_DRAWN, eventsToDraw, namedPfns, openingNote, pointOf, wholeLineTop } from '../../frontend/lib/narrate.js';

const ev = (kind, message = kind) => ({ kind, fn: 'f', zone: 'Normal', message });

test('a free: the point is where the block lands, not the bookkeeping on the way', () => {
  const events = [ev('user'), ev('free'), ev('list_del'), ev('merge'), ev('merge_stop'), ev('list_add', 'goes to the tail')];
  assert.equal(pointOf(events), 5);
});

test('a request beats the flag it sets; a report beats the work item that runs it', () => {
  assert.equal(pointOf([ev('user'), ev('free'), ev('list_add'), ev('state'), ev('request')]), 4);
  assert.equal(pointOf([ev('work'), ev('report')]), 1);
  assert.equal(pointOf([ev('work'), ev('putback'), ev('list_add'), ev('boundary'), ev('flag_set'), ev('boundary')]), 3);
});

test('an allocation: the block allocated, or the fallback that found it', () => {
  assert.equal(pointOf([ev('user'), ev('list_del'), ev('split'), ev('list_add'), ev('alloc')]), 4);
  assert.equal(pointOf([ev('user'), ev('fallback'), ev('list_del'), ev('alloc')]), 1);
});

test('many allocations or frees in one step are summed up by the user event', () => {
  assert.equal(pointOf([ev('user'), ev('free'), ev('list_add'), ev('free'), ev('list_add')]), 0);
  assert.equal(pointOf([ev('user'), ev('alloc'), ev('alloc')]), 0);
  assert.equal(pointOf([]), -1);
  assert.equal(pointOf([ev('list_del')]), 0);
});

test('a long step draws its first lines and enough to include its point', () => {
  assert.equal(eventsToDraw(6, 5), 6);
  assert.equal(eventsToDraw(900, 3), EVENTS_DRAWN);
  assert.equal(eventsToDraw(900, 500), 510);
  assert.equal(eventsToDraw(505, 500), 505);
});

test('a list scrolls to a line top, so its first visible line is whole', () => {
  const tops = [0, 21, 42, 63, 84];
  const at = (want, least, point, most) => wholeLineTop(tops, { want, least, point, most });
  assert.equal(at(40, 15, 84, 200), 21);
  assert.equal(at(63, 15, 84, 200), 63);
  // Not past the list's furthest scroll: that would stop between two tops.
  assert.equal(at(63, 15, 84, 37), 21);
  // A tall point line: its bottom stays in view even when that leaves it near the top.
  assert.equal(at(20, 40, 63, 200), 42);
});

test('the blocks a chapter text names: its hex numbers, once each; event messages name none', () => {
  const events = [
    { kind: 'phase', message: 'Inspect pfn 0x4000: page_type 0xfffffe7f; the last block, pfn 0x0, and 0x4000 again.' },
    { kind: 'list_add', message: 'order-10 block at pfn 0x7c00 goes to the tail' },
  ];
  assert.deepEqual(namedPfns(events), [0x4000, 0xfffffe7f, 0]);
  assert.deepEqual(namedPfns(events.slice(1)), []);
  assert.deepEqual(namedPfns([]), []);
  // A step without events shows the opening note: the blocks it names.
  const config = { source: { title: 'Hildenbrand', look_for: 'Inspect pfn 0x4000; pfn 0x0 stays unreported.' } };
  assert.equal(openingNote(config), 'Hildenbrand. Look for: Inspect pfn 0x4000; pfn 0x0 stays unreported.');
  assert.deepEqual(namedPfns([], openingNote(config)), [0x4000, 0]);
  assert.deepEqual(namedPfns(events.slice(1), openingNote(config)), [], 'a step with events: only its chapter text');
  assert.equal(openingNote({ source: { title: 'no note' } }), '');
  assert.equal(openingNote({}), '');
});
