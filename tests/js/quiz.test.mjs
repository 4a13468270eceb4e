import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ProtocolError } from '../../frontend/lib/protocol.js';
import {
  answerForm,
  decodeQuestion,
  decodeQuizState,
  decodeReveal,
  formatScore,
  placeholderFor,
  QUIZ_KEYS,
  quizKey,
  readReply,
  verdict,
} from '../../frontend/lib/quiz.js';
import { KEYMAP } from '../../frontend/lib/keys.js';
import { applyDelta, stateFromSnapshot } from '../../frontend/lib/state.js';
import { delta, snapshot } from './fixtures.mjs';

const question = (over = {}) => ({
  step: 4,
  kind: 'which_end',
  ask: 'Head or tail: where does pfn 1 go?',
  choices: ['head', 'tail'],
  origin: 'scenario',
  workload_op: 3,
  ...over,
});

const reveal = (over = {}) => ({
  type: 'reveal',
  step: 4,
  kind: 'which_end',
  reply: 'tail',
  correct: false,
  answer: 'head',
  explain: 'order-0 block at pfn 1 goes to the head of the Movable order-0 list',
  score: { right: 0, asked: 1 },
  ...over,
});

const NODE = { migratetypes: ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate'], maxOrder: 11 };

test('a question and a reveal as docs/protocol.md shows them decode', () => {
  assert.deepEqual(decodeQuestion(question()), question());
  const r = decodeReveal(reveal());
  assert.equal(r.answer, 'head');
  assert.deepEqual(r.score, { right: 0, asked: 1 });
  assert.equal(decodeReveal(reveal({ reply: null })).reply, null);
});

test('a wrong question, reveal or quiz state is refused with what is wrong', () => {
  assert.throws(() => decodeQuestion(question({ kind: 'guess' })), /question.kind: unknown kind "guess"/);
  assert.throws(() => decodeQuestion(question({ step: 0 })), /question.step must be at least 1/);
  assert.throws(() => decodeQuestion(question({ choices: 'head' })), /question.choices must be an array/);
  assert.throws(() => decodeQuestion(question({ choices: ['head', 3] })), /question.choices\[1\] must be a string/);
  assert.throws(() => decodeQuestion(question({ origin: 'teacher' })), /origin must be "scenario" or "generated"/);
  assert.throws(() => decodeQuestion(null), ProtocolError);
  assert.throws(() => decodeReveal(reveal({ correct: 'yes' })), /reveal.correct must be true or false/);
  assert.throws(() => decodeReveal(reveal({ score: { right: 2, asked: 1 } })), /2 right of 1 asked/);
  assert.throws(() => decodeReveal(reveal({ reply: 4 })), /reveal.reply must be a string/);
  assert.throws(() => decodeQuizState({ on: 'yes', score: { right: 0, asked: 0 }, question: null }), /quiz.on/);
});

test('the quiz state of a snapshot or delta', () => {
  assert.equal(decodeQuizState(undefined), null, 'a server without quiz mode');
  assert.deepEqual(decodeQuizState({ on: true, score: { right: 1, asked: 2 }, question: null }), {
    on: true,
    score: { right: 1, asked: 2 },
    question: null,
  });
  assert.equal(decodeQuizState({ on: true, score: { right: 0, asked: 0 }, question: question() }).question.step, 4);
});

test('named choices are buttons; numbers and free lists are typed', () => {
  assert.deepEqual(answerForm(question()), { mode: 'choice', choices: ['head', 'tail'] });
  assert.deepEqual(answerForm(question({ kind: 'will_merge', choices: ['yes', 'no'] })).mode, 'choice');
  const orders = Array.from({ length: 11 }, (_, i) => String(i));
  assert.deepEqual(answerForm(question({ kind: 'merge_order', choices: orders })), { mode: 'number', min: 0, max: 10, pfn: false });
  assert.deepEqual(answerForm(question({ kind: 'which_pfn', choices: [] })), { mode: 'number', min: 0, max: null, pfn: true });
  assert.deepEqual(answerForm(question({ kind: 'blocks_reported', choices: [] })), { mode: 'number', min: 0, max: null, pfn: false });
  assert.deepEqual(answerForm(question({ kind: 'which_list', choices: [] })), { mode: 'list' });
  assert.match(placeholderFor(answerForm(question({ kind: 'which_pfn', choices: [] }))), /hex \(0x…\) or decimal/);
  assert.match(placeholderFor(answerForm(question({ kind: 'merge_order', choices: orders }))), /from 0 to 10/);
});

test('replies are checked and written as the server writes answers', () => {
  const pfn = question({ kind: 'which_pfn', choices: [] });
  assert.deepEqual(readReply(pfn, ' 512 ', NODE), { reply: 'pfn 0x200' });
  assert.deepEqual(readReply(pfn, '0x200', NODE), { reply: 'pfn 0x200' });
  assert.deepEqual(readReply(pfn, 'pfn 512', NODE), { reply: 'pfn 0x200' });
  assert.match(readReply(pfn, 'five', NODE).error, /"five" is not a pfn/);
  assert.match(readReply(pfn, '-3', NODE).error, /not a pfn/);
  assert.match(readReply(pfn, '99999999999999999999', NODE).error, /too large/);
  const order = question({ kind: 'merge_order', choices: Array.from({ length: 11 }, (_, i) => String(i)) });
  assert.deepEqual(readReply(order, '10', NODE), { reply: '10' });
  assert.match(readReply(order, '11', NODE).error, /11 is out of range: the answer is between 0 and 10/);
  assert.match(readReply(order, 'pfn 3', NODE).error, /not a whole number/);
  const list = question({ kind: 'which_list', choices: [] });
  assert.deepEqual(readReply(list, 'order-3 movable', NODE), { reply: 'order-3 Movable' });
  assert.deepEqual(readReply(list, '9 Unmovable', NODE), { reply: 'order-9 Unmovable' });
  assert.deepEqual(readReply(list, 'order 2, reclaimable', NODE), { reply: 'order-2 Reclaimable' });
  assert.match(readReply(list, 'order-11 Movable', NODE).error, /no order 11: orders go from 0 to 10/);
  assert.match(readReply(list, '3 sticky', NODE).error, /"sticky" is not a migratetype of this node: Unmovable, .* or Isolate/);
  assert.match(readReply(list, 'Movable', NODE).error, /order and migratetype/);
  const end = question();
  assert.deepEqual(readReply(end, 'HEAD', NODE), { reply: 'head' });
  assert.match(readReply(end, 'middle', NODE).error, /Choose head or tail/);
  assert.match(readReply(end, '   ', NODE).error, /Type an answer, or press Esc/);
  assert.match(readReply(end, 'x'.repeat(201), NODE).error, /201 characters long; 200 at most/);
});

test('quiz keys: digits pick, Enter answers, Escape skips; fields keep their keys', () => {
  const body = { tagName: 'BODY' };
  const field = { tagName: 'INPUT', type: 'text' };
  assert.deepEqual(quizKey({ key: '1', target: body }, 2), { action: 'pick', index: 0 });
  assert.deepEqual(quizKey({ key: '2', target: body }, 2), { action: 'pick', index: 1 });
  assert.equal(quizKey({ key: '3', target: body }, 2), null, 'no third choice');
  assert.equal(quizKey({ key: '1', target: field }, 0), null, 'typing a pfn');
  assert.equal(quizKey({ key: '0', target: body }, 4), null);
  assert.deepEqual(quizKey({ key: 'Enter', target: body }, 2), { action: 'answer' });
  assert.equal(quizKey({ key: 'Enter', target: { tagName: 'BUTTON' } }, 2), null, 'the button clicks itself');
  assert.equal(quizKey({ key: 'Enter', target: field }, 0), null, 'the form submits itself');
  assert.deepEqual(quizKey({ key: 'Escape', target: field }, 0), { action: 'skip' });
  assert.deepEqual(quizKey({ key: 'Escape', target: body }, 2), { action: 'skip' });
  assert.equal(quizKey({ key: '1', target: body, ctrlKey: true }, 2), null);
  assert.equal(quizKey({ key: 'ArrowRight', target: body }, 2), null);
});

test('the quiz keys do not clash with the page keys', () => {
  const pageKeys = new Set(KEYMAP.flatMap((k) => k.keys));
  const quizKeys = QUIZ_KEYS.flatMap((k) => k.keys).filter((k) => k !== 'Esc');
  assert.deepEqual(quizKeys.filter((k) => pageKeys.has(k)), []);
  assert.ok(KEYMAP.some((k) => k.action === 'quiz' && k.keys.includes('q')));
});

test('the score and the verdict say it in words and symbols, not only colour', () => {
  assert.equal(formatScore({ right: 2, asked: 3 }), '2 / 3 right');
  assert.deepEqual(verdict(decodeReveal(reveal())), { tone: 'wrong', mark: '✗', word: 'Wrong' });
  assert.deepEqual(verdict(decodeReveal(reveal({ reply: 'head', correct: true }))), { tone: 'right', mark: '✓', word: 'Right' });
  assert.deepEqual(verdict(decodeReveal(reveal({ reply: null }))), { tone: 'skipped', mark: '–', word: 'Skipped' });
});

test('the client state carries the quiz state of snapshots and deltas; a bad one changes nothing', () => {
  const s = stateFromSnapshot(snapshot());
  assert.equal(s.quiz, null, 'a snapshot without quiz');
  const on = { on: true, score: { right: 0, asked: 0 }, question: question() };
  applyDelta(s, delta({ seq: s.seq + 1, quiz: on }));
  assert.deepEqual(s.quiz, on);
  applyDelta(s, delta({ seq: s.seq + 1 }));
  assert.deepEqual(s.quiz, on, 'a delta without quiz keeps it');
  const seq = s.seq;
  assert.throws(() => applyDelta(s, delta({ seq: seq + 1, step: 9, quiz: { on: true, score: { right: 1, asked: 0 }, question: null } })), /1 right of 0 asked/);
  assert.equal(s.seq, seq);
  assert.deepEqual(s.quiz, on);
  applyDelta(s, delta({ seq: seq + 1, quiz: { on: true, score: { right: 1, asked: 1 }, question: null } }));
  assert.deepEqual(s.quiz, { on: true, score: { right: 1, asked: 1 }, question: null });
});
