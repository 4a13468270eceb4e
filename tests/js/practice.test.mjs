import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  explanation,
  nextSeed,
  parsePracticeUrl,
  practiceApi,
  practiceForm,
  practiceSearch,
  readPracticeReply,
  SEED_LIMIT,
  stripBlocks,
  verdictText,
} from '../../frontend/lib/practice.js';

/** @returns {import('../../frontend/lib/practice.js').Exercise} */
function exercise(kind, extra = {}) {
  return {
    kind,
    seed: 42,
    title: 't',
    ask: 'q?',
    setting: 's',
    setup: [],
    before: { zone: 'Normal', start_pfn: 0x1000, pages: 256, max_order: 6, clock: 0, lists: [], blocks: [] },
    choices: kind === 'end' ? ['head', 'tail'] : kind === 'merge' ? ['0', '1', '2', '3', '4', '5'] : [],
    answer_help: kind === 'report' ? "answer with the batch's pfns, in hex (0x…) or decimal, separated by commas" : 'answer with a pfn, in hex (0x…) or decimal',
    hint: 'h',
    ...extra,
  };
}

test('an address reproduces an exercise; bad values fall back with a problem', () => {
  assert.deepEqual(parsePracticeUrl('?kind=end&seed=42'), { address: { kind: 'end', seed: 42 }, problems: [] });
  assert.deepEqual(parsePracticeUrl('').address, { kind: 'pfn', seed: 0 });
  const bad = parsePracticeUrl('?kind=split&seed=-3');
  assert.deepEqual(bad.address, { kind: 'pfn', seed: 0 });
  assert.equal(bad.problems.length, 2);
  assert.match(bad.problems[0], /kind=split: expected one of pfn, end, merge, report/);
  assert.match(parsePracticeUrl(`?seed=${SEED_LIMIT}`).problems[0], /seed=4294967296/);
  const address = { kind: 'report', seed: 7 };
  assert.deepEqual(parsePracticeUrl(practiceSearch(address)).address, address);
});

test('next exercise is the next seed, wrapping at the last', () => {
  assert.equal(nextSeed(41), 42);
  assert.equal(nextSeed(SEED_LIMIT - 1), 0);
});

test('REST paths of an exercise, a reply and the answer', () => {
  const a = { kind: 'end', seed: 3 };
  assert.equal(practiceApi(a), '/api/practice/end/3');
  assert.equal(practiceApi(a, 'pfn 0x1010'), '/api/practice/end/3/answer?reply=pfn%200x1010');
  assert.equal(practiceApi(a, null), '/api/practice/end/3/answer');
});

test('replies are checked before they are sent, in the quiz rules', () => {
  assert.deepEqual(practiceForm(exercise('end')), { mode: 'choice', choices: ['head', 'tail'] });
  assert.equal(practiceForm(exercise('pfn')).mode, 'typed');
  assert.deepEqual(readPracticeReply(exercise('pfn'), '4112'), { reply: 'pfn 0x1010' });
  assert.deepEqual(readPracticeReply(exercise('pfn'), 'pfn 0x1010'), { reply: 'pfn 0x1010' });
  assert.match(readPracticeReply(exercise('pfn'), 'the head').error, /not a pfn/);
  assert.deepEqual(readPracticeReply(exercise('merge'), '3'), { reply: '3' });
  assert.match(readPracticeReply(exercise('merge'), '9').error, /out of range/);
  assert.deepEqual(readPracticeReply(exercise('end'), 'Tail'), { reply: 'tail' });
  assert.match(readPracticeReply(exercise('end'), 'middle').error, /head or tail/);
  assert.deepEqual(readPracticeReply(exercise('report'), '4096; 0x1020 pfn 0x1040'), { reply: '0x1000, 0x1020, 0x1040' });
  assert.match(readPracticeReply(exercise('report'), '0x10g0').error, /"0x10g0" is not a pfn/);
  assert.match(readPracticeReply(exercise('report'), ' ').error, /Type the batch/);
  assert.doesNotMatch(readPracticeReply(exercise('pfn'), '').error, /Esc/);
});

test('the strip places each block along the zone by pfn', () => {
  const before = {
    zone: 'Normal', start_pfn: 0x1000, pages: 256, max_order: 6, clock: 0, lists: [],
    blocks: [{ pfn: 0x1000, order: 4, state: 'allocated' }, { pfn: 0x1010, order: 4, state: 'reported' }, { pfn: 0x1020, order: 5, state: 'free' }],
  };
  const got = stripBlocks(before);
  assert.deepEqual(got.map((b) => [b.left, b.width]), [[0, 1 / 16], [1 / 16, 1 / 16], [2 / 16, 1 / 8]]);
  assert.equal(got[1].label, '0x1010 (4112) · order 4 · reported');
});

test('the verdict in words, and the model events with the telling one marked', () => {
  const base = { kind: 'pfn', seed: 1, problem: null, hint: 'the rule', events: null, key: null, after: null };
  assert.deepEqual(verdictText({ ...base, reply: 'pfn 0x1', right: false, answer: null }), { tone: 'wrong', text: 'Not pfn 0x1. Try again. Hint: the rule' });
  assert.deepEqual(verdictText({ ...base, reply: '0x1010', right: true, answer: 'pfn 0x1010' }), { tone: 'right', text: 'Right: pfn 0x1010.' });
  assert.deepEqual(verdictText({ ...base, reply: null, right: false, answer: 'pfn 0x1010' }), { tone: 'shown', text: 'The answer: pfn 0x1010.' });
  assert.equal(verdictText({ ...base, reply: 'x', right: false, answer: null, problem: 'no number' }).tone, 'problem');
  const events = [{ fn: 'a', kind: 'x', message: 'one' }, { fn: 'b', kind: 'alloc', message: 'two' }];
  assert.deepEqual(explanation({ ...base, reply: null, right: false, answer: 'x', events, key: 1 }).map((e) => e.key), [false, true]);
});
