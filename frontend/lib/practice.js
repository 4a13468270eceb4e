// @ts-check
/**
 * Generated practice, the page's side.  Pure logic, no DOM: the practice page's address
 * (`practice.html?kind=end&seed=42` reproduces an exercise), the next seed, replies
 * checked before they are sent (the quiz's rules, lib/quiz.js, for a pfn, an order or
 * head/tail; a list of pfns for a report batch), the toy zone's blocks laid out along
 * its pfns, and the model's events as the explanation.
 *
 * The page never decides whether a reply is right: GET /api/practice/{kind}/{seed}/answer
 * says so (backend/practice.py), from the model's dry run.
 */
import { formatPfn } from './layout.js';
import { pfnWithDecimal } from './pfntext.js';
import { readReply } from './quiz.js';

/** Kinds of exercise (allocator_model/lab/practice.py). */
export const PRACTICE_KINDS = Object.freeze(['pfn', 'end', 'merge', 'report']);

/** Seeds run from 0 to 2^32 - 1 (the CLI's --seed). */
export const SEED_LIMIT = 2 ** 32;

/** The quiz question kind whose reply rules a practice kind shares. */
const QUIZ_KIND = Object.freeze({ pfn: 'which_pfn', end: 'which_end', merge: 'merge_order' });

/**
 * @typedef {{kind: string, seed: number}} PracticeAddress
 * @typedef {{pfn: number, reported: boolean}} ListBlock
 * @typedef {{order: number, migratetype: string, blocks: ListBlock[]}} FreeList
 * @typedef {{pfn: number, order: number, state: 'free' | 'reported' | 'allocated'}} ZoneBlock
 * @typedef {{zone: string, start_pfn: number, pages: number, max_order: number, clock: number,
 *            lists: FreeList[], blocks: ZoneBlock[]}} Picture
 * @typedef {{kind: string, seed: number, title: string, ask: string, setting: string,
 *            setup: string[], before: Picture, choices: string[], answer_help: string,
 *            hint: string}} Exercise
 * @typedef {{fn: string, kind: string, message: string}} ModelEvent
 * @typedef {{kind: string, seed: number, reply: string | null, right: boolean,
 *            problem: string | null, hint: string | null, answer: string | null,
 *            events: ModelEvent[] | null, key: number | null, after: Picture | null}} Verdict
 */

/**
 * The exercise an address names; a missing or bad value falls back to pfn / 0 with a
 * problem saying so.
 * @param {string} search location.search
 * @returns {{address: PracticeAddress, problems: string[]}}
 */
export function parsePracticeUrl(search) {
  const params = new URLSearchParams(search);
  /** @type {string[]} */
  const problems = [];
  let kind = params.get('kind') ?? 'pfn';
  if (!PRACTICE_KINDS.includes(kind)) {
    problems.push(`kind=${kind.slice(0, 40)}: expected one of ${PRACTICE_KINDS.join(', ')}`);
    kind = 'pfn';
  }
  const raw = params.get('seed');
  let seed = 0;
  if (raw !== null) {
    const n = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
    if (Number.isSafeInteger(n) && n < SEED_LIMIT) seed = n;
    else problems.push(`seed=${raw.slice(0, 40)}: expected a whole number from 0 to ${SEED_LIMIT - 1}`);
  }
  return { address: { kind, seed }, problems };
}

/**
 * The address of an exercise (relative to the practice page).
 * @param {PracticeAddress} address
 */
export function practiceSearch(address) {
  return `?kind=${encodeURIComponent(address.kind)}&seed=${address.seed}`;
}

/**
 * "next exercise": the next seed (after the last, the first).
 * @param {number} seed
 */
export function nextSeed(seed) {
  return (seed + 1) % SEED_LIMIT;
}

/**
 * The REST path of an exercise, or of the verdict on a reply (null: the answer).
 * @param {PracticeAddress} address
 * @param {string | null} [reply] undefined: the exercise itself
 */
export function practiceApi(address, reply) {
  const base = `/api/practice/${encodeURIComponent(address.kind)}/${address.seed}`;
  if (reply === undefined) return base;
  return reply === null ? `${base}/answer` : `${base}/answer?reply=${encodeURIComponent(reply)}`;
}

/**
 * How the reply is given: buttons for named choices, else a typed field.
 * @param {Exercise} exercise
 * @returns {{mode: 'choice', choices: string[]} | {mode: 'typed', placeholder: string}}
 */
export function practiceForm(exercise) {
  if (exercise.kind === 'end') return { mode: 'choice', choices: [...exercise.choices] };
  return { mode: 'typed', placeholder: exercise.answer_help.replace(/^answer with /, '') };
}

/**
 * Check a reply before it is sent (a specific message instead of the server's), and
 * put it in a plain form.
 * @param {Exercise} exercise
 * @param {string} text
 * @returns {{reply: string} | {error: string}}
 */
export function readPracticeReply(exercise, text) {
  const t = String(text).trim();
  if (exercise.kind === 'report') {
    if (t === '') return { error: `Type the batch: ${exercise.answer_help.replace(/^answer with /, '')}.` };
    /** @type {string[]} */
    const pfns = [];
    for (const token of t.split(/[\s,;]+/)) {
      if (token === '' || token.toLowerCase() === 'pfn') continue;
      const m = /^(0x[0-9a-f]+|\d+)$/i.exec(token);
      if (!m) return { error: `"${token}" is not a pfn: type pfns such as 0x1000, 0x1020.` };
      const n = m[1].toLowerCase().startsWith('0x') ? parseInt(m[1].slice(2), 16) : Number(m[1]);
      pfns.push(formatPfn(n));
    }
    if (!pfns.length) return { error: 'Type at least one pfn.' };
    return { reply: pfns.join(', ') };
  }
  const kind = QUIZ_KIND[/** @type {'pfn' | 'end' | 'merge'} */ (exercise.kind)];
  const choices = exercise.kind === 'merge' ? exercise.choices : exercise.kind === 'end' ? exercise.choices : [];
  const question = { step: 1, kind, ask: exercise.ask, choices, origin: /** @type {'generated'} */ ('generated'), workload_op: 0 };
  const read = readReply(question, t, { migratetypes: [], maxOrder: exercise.before.max_order });
  if ('error' in read) return { error: read.error.replace(', or press Esc to skip the question', '') };
  const pfn = /^pfn (\d+)$/.exec(read.reply);
  return pfn ? { reply: `pfn ${formatPfn(Number(pfn[1]))}` } : read;
}

/**
 * The zone's blocks along its pfns, as fractions of its width (the map strip).
 * @param {Picture} picture
 * @returns {Array<ZoneBlock & {left: number, width: number, label: string}>}
 */
export function stripBlocks(picture) {
  return picture.blocks.map((b) => ({
    ...b,
    left: (b.pfn - picture.start_pfn) / picture.pages,
    width: (1 << b.order) / picture.pages,
    label: `${pfnWithDecimal(b.pfn)} · order ${b.order} · ${b.state}`,
  }));
}

/**
 * The model's events as the explanation, the one that carries the answer marked.
 * @param {Verdict} verdict
 * @returns {Array<{fn: string, message: string, key: boolean}>}
 */
export function explanation(verdict) {
  return (verdict.events ?? []).map((e, i) => ({ fn: e.fn, message: e.message, key: i === verdict.key }));
}

/**
 * What the page says about a verdict.
 * @param {Verdict} verdict
 * @returns {{tone: 'right' | 'wrong' | 'shown' | 'problem', text: string}}
 */
export function verdictText(verdict) {
  if (verdict.problem) return { tone: 'problem', text: verdict.problem };
  if (verdict.right) return { tone: 'right', text: `Right: ${verdict.answer}.` };
  if (verdict.reply === null) return { tone: 'shown', text: `The answer: ${verdict.answer}.` };
  return { tone: 'wrong', text: `Not ${verdict.reply}. Try again. Hint: ${verdict.hint ?? ''}` };
}
