import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chapterAt, chapterRanges, chapterWordings, nextChapterStep, previousChapterStep, rangeText } from '../../frontend/lib/chapters.js';

const chapters = [
  { step: 1, title: 'allocate' },
  { step: 3, title: 'free 31' },
  { step: 12, title: 'the worker' },
];

test('chapters run to the step before the next one, the last to the end', () => {
  const r = chapterRanges(chapters, [], 14);
  assert.deepEqual(r.map((c) => [c.step, c.end, c.title]), [[1, 2, 'allocate'], [3, 11, 'free 31'], [12, 14, 'the worker']]);
  assert.equal(rangeText(r[1]), 'steps 3–11');
  assert.equal(rangeText(chapterRanges(chapters, [], 12)[2]), 'step 12');
});

test('a shorter timeline (a fork) drops the chapters past its end; a new phase mark adds one', () => {
  const r = chapterRanges(chapters, [{ step: 5, kind: 'phase' }, { step: 6, kind: 'report' }], 6);
  assert.deepEqual(r.map((c) => [c.step, c.end]), [[1, 2], [3, 4], [5, 6]]);
  assert.equal(r[2].title, 'phase at step 5');
});

test('next and previous chapter, and the chapter a step is in', () => {
  const r = chapterRanges(chapters, [], 14);
  assert.equal(nextChapterStep(r, 0), 1);
  assert.equal(nextChapterStep(r, 3), 12);
  assert.equal(nextChapterStep(r, 12), null);
  assert.equal(previousChapterStep(r, 5), 3);
  assert.equal(previousChapterStep(r, 3), 1);
  assert.equal(previousChapterStep(r, 1), 0);
  assert.equal(chapterAt(r, 0), null);
  assert.equal(chapterAt(r, 11)?.title, 'free 31');
});

test('a chapter carries its presenter notes; a phase mark added later has none', () => {
  const r = chapterRanges([{ step: 1, title: 'allocate', notes: 'Point at the head.' }, { step: 3, title: 'free' }], [{ step: 5, kind: 'phase' }], 6);
  assert.deepEqual(r.map((c) => c.notes), ['Point at the head.', null, null]);
});

test('a chapter in words from the whole to the most compact, its title always whole', () => {
  const [first, , third] = chapterRanges(chapters, [], 14);
  const words = (w) => `${w.prefix}TITLE${w.range ? ` · ${w.range}` : ''}${w.setup ? ' +setup' : ''}`;
  assert.deepEqual(chapterWordings(third, 3).map(words), [
    'chapter 3 / 3: TITLE · steps 12–14 +setup',
    '3 / 3: TITLE · steps 12–14 +setup',
    '3 / 3: TITLE · 12–14',
    '3 / 3: TITLE',
  ]);
  assert.equal(chapterWordings(first, 3)[2].range, '1–2');
  assert.equal(chapterWordings(chapterRanges(chapters, [], 12)[2], 3)[2].range, '12', 'a chapter of one step');
});
