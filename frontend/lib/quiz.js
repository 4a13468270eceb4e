// @ts-check
/**
 * Quiz mode, the page's side.  Pure logic, no DOM: decoding the server's `question` and
 * `reveal` messages and the `quiz` state of snapshots and deltas, how a question is
 * answered (buttons, a number, a free list), checking a reply before it is sent, the
 * keys while a question waits, and the words of the reveal.
 *
 * The page never decides whether an answer is right: the server's `reveal` says so, and
 * its answer is a dry run of the model (docs/protocol.md, "Quiz mode").
 */
import { isTyping } from './keys.js';
import { formatPfn } from './layout.js';
import { ProtocolError } from './protocol.js';

/** Question kinds (allocator_model/lab/quiz.py). */
export const QUESTION_KINDS = Object.freeze([
  'which_pfn', 'which_end', 'which_list', 'which_migratetype', 'merge_order', 'will_merge',
  'requests', 'blocks_reported',
]);

/** The server's limit on a reply (backend/protocol.py, `Answer.reply`). */
export const MAX_REPLY = 200;

/** Keys while a question waits, for the `?` help (quizKey reads them). */
export const QUIZ_KEYS = Object.freeze([
  { keys: ['1', '2', '3', '4'], label: 'quiz: pick an answer (up to 9)' },
  { keys: ['Enter'], label: 'quiz: answer with the picked choice or the typed value' },
  { keys: ['Esc'], label: 'quiz: skip the question (the step then runs); close the answer' },
]);

/**
 * @typedef {{right: number, asked: number}} QuizScore
 * @typedef {{step: number, kind: string, ask: string, choices: string[],
 *            origin: 'scenario' | 'generated', workload_op: number}} QuizQuestion
 * @typedef {{on: boolean, score: QuizScore, question: QuizQuestion | null}} QuizState
 * @typedef {{step: number, kind: string, reply: string | null, correct: boolean,
 *            answer: string, explain: string, score: QuizScore}} Reveal
 * @typedef {{mode: 'choice', choices: string[]}
 *         | {mode: 'number', min: number, max: number | null, pfn: boolean}
 *         | {mode: 'list'}} AnswerForm
 */

/**
 * @param {unknown} value
 * @param {string} what
 * @returns {asserts value is number}
 */
function expectCount(value, what) {
  if (!Number.isInteger(value) || /** @type {number} */ (value) < 0) {
    throw new ProtocolError(`${what} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
}

/**
 * @param {unknown} value
 * @param {string} what
 * @returns {asserts value is string}
 */
function expectString(value, what) {
  if (typeof value !== 'string') throw new ProtocolError(`${what} must be a string, got ${JSON.stringify(value)}`);
}

/**
 * @param {unknown} value
 * @param {string} what
 * @returns {asserts value is Record<string, any>}
 */
function expectObject(value, what) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ProtocolError(`${what} must be an object`);
}

/**
 * @param {unknown} value
 * @param {string} what
 * @returns {QuizScore}
 */
export function decodeScore(value, what = 'score') {
  expectObject(value, what);
  expectCount(value.right, `${what}.right`);
  expectCount(value.asked, `${what}.asked`);
  if (value.right > value.asked) throw new ProtocolError(`${what}: ${value.right} right of ${value.asked} asked`);
  return { right: value.right, asked: value.asked };
}

/**
 * A question as sent (the `question` field of a `question` message or of `quiz`).
 * @param {unknown} value
 * @param {string} [what]
 * @returns {QuizQuestion}
 */
export function decodeQuestion(value, what = 'question') {
  expectObject(value, what);
  expectCount(value.step, `${what}.step`);
  if (value.step < 1) throw new ProtocolError(`${what}.step must be at least 1`);
  expectString(value.kind, `${what}.kind`);
  if (!QUESTION_KINDS.includes(value.kind)) throw new ProtocolError(`${what}.kind: unknown kind ${JSON.stringify(value.kind)}`);
  expectString(value.ask, `${what}.ask`);
  if (!Array.isArray(value.choices)) throw new ProtocolError(`${what}.choices must be an array`);
  value.choices.forEach((/** @type {unknown} */ c, /** @type {number} */ i) => expectString(c, `${what}.choices[${i}]`));
  if (value.origin !== 'scenario' && value.origin !== 'generated') {
    throw new ProtocolError(`${what}.origin must be "scenario" or "generated", got ${JSON.stringify(value.origin)}`);
  }
  expectCount(value.workload_op, `${what}.workload_op`);
  return {
    step: value.step,
    kind: value.kind,
    ask: value.ask,
    choices: [...value.choices],
    origin: value.origin,
    workload_op: value.workload_op,
  };
}

/**
 * The body of a `reveal` message.
 * @param {unknown} msg
 * @returns {Reveal}
 */
export function decodeReveal(msg) {
  expectObject(msg, 'reveal');
  expectCount(msg.step, 'reveal.step');
  expectString(msg.kind, 'reveal.kind');
  if (msg.reply !== null) expectString(msg.reply, 'reveal.reply');
  if (typeof msg.correct !== 'boolean') throw new ProtocolError('reveal.correct must be true or false');
  expectString(msg.answer, 'reveal.answer');
  expectString(msg.explain, 'reveal.explain');
  return {
    step: msg.step,
    kind: msg.kind,
    reply: msg.reply,
    correct: msg.correct,
    answer: msg.answer,
    explain: msg.explain,
    score: decodeScore(msg.score, 'reveal.score'),
  };
}

/**
 * The `quiz` field of a snapshot or delta (null when the server sends none).
 * @param {unknown} value
 * @returns {QuizState | null}
 */
export function decodeQuizState(value) {
  if (value === undefined || value === null) return null;
  expectObject(value, 'quiz');
  if (typeof value.on !== 'boolean') throw new ProtocolError('quiz.on must be true or false');
  return {
    on: value.on,
    score: decodeScore(value.score, 'quiz.score'),
    question: value.question === null || value.question === undefined ? null : decodeQuestion(value.question, 'quiz.question'),
  };
}

const WHOLE = /^\d+$/;

/**
 * How the page asks for the reply: buttons for a few named choices, a field for a
 * number (a pfn, a count of blocks, an order: numbers are typed, not picked from eleven
 * buttons), a field for a free list ("order-3 Movable").
 * @param {QuizQuestion} question
 * @returns {AnswerForm}
 */
export function answerForm(question) {
  const { choices, kind } = question;
  if (choices.length && choices.every((c) => WHOLE.test(c))) {
    const values = choices.map(Number);
    return { mode: 'number', min: Math.min(...values), max: Math.max(...values), pfn: false };
  }
  if (choices.length) return { mode: 'choice', choices: [...choices] };
  if (kind === 'which_list') return { mode: 'list' };
  return { mode: 'number', min: 0, max: null, pfn: kind === 'which_pfn' };
}

/**
 * What the field for a typed reply suggests.
 * @param {AnswerForm} form
 */
export function placeholderFor(form) {
  if (form.mode === 'list') return 'a free list, e.g. order-3 Movable';
  if (form.mode === 'number' && form.pfn) return 'a pfn, in hex (0x…) or decimal';
  if (form.mode === 'number' && form.max !== null) return `a number from ${form.min} to ${form.max}`;
  return 'a number';
}

/** @param {string[]} names */
function orList(names) {
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/**
 * Check a reply before it is sent, and put it in the form the server's answers have
 * ("pfn 512", "order-3 Movable", "10", "head").  The server reads replies leniently
 * too; checking here gives a specific message and sends nothing that cannot be right.
 * @param {QuizQuestion} question
 * @param {string} text what the user typed or picked
 * @param {{migratetypes: string[], maxOrder: number}} config
 * @returns {{reply: string} | {error: string}}
 */
export function readReply(question, text, config) {
  const form = answerForm(question);
  const t = String(text).trim();
  if (t === '') return { error: 'Type an answer, or press Esc to skip the question.' };
  if (t.length > MAX_REPLY) return { error: `That answer is ${t.length} characters long; ${MAX_REPLY} at most.` };
  if (form.mode === 'choice') {
    const found = form.choices.find((c) => c.toLowerCase() === t.toLowerCase());
    return found === undefined ? { error: `Choose ${orList(form.choices)}.` } : { reply: found };
  }
  if (form.mode === 'number') {
    const m = /^(?:pfn\s*)?(0x[0-9a-f]+|\d+)$/i.exec(t);
    if (!m || (!form.pfn && /^pfn/i.test(t))) {
      return { error: form.pfn ? `"${t}" is not a pfn: type one such as 0x200 (or 512 in decimal).` : `"${t}" is not a whole number.` };
    }
    const n = m[1].toLowerCase().startsWith('0x') ? parseInt(m[1].slice(2), 16) : Number(m[1]);
    if (!Number.isSafeInteger(n)) return { error: `${t} is too large.` };
    if (n < form.min || (form.max !== null && n > form.max)) {
      return { error: `${n} is out of range: the answer is between ${form.min} and ${form.max}.` };
    }
    return { reply: form.pfn ? `pfn ${formatPfn(n)}` : String(n) };
  }
  const m = /^(?:order[\s-]*)?(\d+)[\s,;:-]+([a-z]+)$/i.exec(t);
  if (!m) return { error: `Name a free list by its order and migratetype, e.g. "order-3 ${config.migratetypes[1] ?? 'Movable'}".` };
  const order = Number(m[1]);
  if (order >= config.maxOrder) return { error: `There is no order ${order}: orders go from 0 to ${config.maxOrder - 1}.` };
  const mt = config.migratetypes.find((x) => x.toLowerCase() === m[2].toLowerCase());
  if (mt === undefined) return { error: `"${m[2]}" is not a migratetype of this node: ${orList(config.migratetypes)}.` };
  return { reply: `order-${order} ${mt}` };
}

/**
 * The quiz's reading of a key while a question waits (null: not the quiz's key).
 * Digits pick a choice (not while typing in a field), Enter answers with the picked
 * choice (a focused button or field handles Enter itself), Escape skips.
 * @param {{key: string, ctrlKey?: boolean, metaKey?: boolean, altKey?: boolean, target?: any}} event
 * @param {number} choices how many choice buttons there are (0: a typed reply)
 * @returns {{action: 'pick', index: number} | {action: 'answer'} | {action: 'skip'} | null}
 */
export function quizKey(event, choices) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  if (event.key === 'Escape') return { action: 'skip' };
  const typing = isTyping(event.target);
  if (/^[1-9]$/.test(event.key)) {
    const index = Number(event.key) - 1;
    return !typing && index < choices ? { action: 'pick', index } : null;
  }
  if (event.key === 'Enter') {
    const tag = String(event.target?.tagName ?? '').toUpperCase();
    if (typing || tag === 'BUTTON' || tag === 'A' || tag === 'SUMMARY' || tag === 'INPUT') return null;
    return { action: 'answer' };
  }
  return null;
}

/**
 * @param {QuizScore} score
 */
export function formatScore(score) {
  return `${score.right} / ${score.asked} right`;
}

/**
 * How the reveal marks the reply: a symbol and a word as well as a colour.
 * @param {Reveal} reveal
 * @returns {{tone: 'right' | 'wrong' | 'skipped', mark: string, word: string}}
 */
export function verdict(reveal) {
  if (reveal.reply === null) return { tone: 'skipped', mark: '–', word: 'Skipped' };
  return reveal.correct ? { tone: 'right', mark: '✓', word: 'Right' } : { tone: 'wrong', mark: '✗', word: 'Wrong' };
}

/** Short titles of the question kinds. */
export const KIND_TITLES = Object.freeze({
  which_pfn: 'which pfn',
  which_end: 'head or tail',
  which_list: 'which free list',
  which_migratetype: 'which migratetype',
  merge_order: 'merge up to which order',
  will_merge: 'will it merge',
  requests: 'will it request hinting or reporting',
  blocks_reported: 'how many blocks reported',
});

/**
 * Where the question comes from, for the question's header.
 * @param {QuizQuestion} question
 */
export function originText(question) {
  return question.origin === 'scenario' ? "the scenario's question" : 'asked by the server for this step';
}
