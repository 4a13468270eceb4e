// @ts-check
/**
 * The keyboard map.  Pure logic, no DOM: `keyAction` looks at a KeyboardEvent-like
 * object and names the action, or returns null.
 *
 * Shortcuts are ignored while typing in a field (input, textarea, select, anything
 * contenteditable) and when a modifier is held (browser shortcuts stay the browser's).
 * Space is play / pause wherever the focus is, a focused button included (Enter
 * presses it), except on a pfn link of the narration reached with Tab (it presses it).
 * Presentation clickers send PageDown/PageUp for next/previous and "." (or "b") for
 * their blank-screen button; here that pauses or resumes.
 */

/** @typedef {'toggle-play' | 'step' | 'back' | 'first' | 'last' | 'faster' | 'slower' |
 *            'help' | 'presenter' | 'run-to' | 'quiz' | 'close' | 'next-chapter' |
 *            'previous-chapter' | 'next-event' | 'previous-event'} Action */

/** Key -> action, as shown in the `?` help (order kept). */
export const KEYMAP = Object.freeze([
  { keys: ['Space', '.'], action: 'toggle-play', label: 'play / pause, wherever the focus is (Enter presses a focused button; Space too on a pfn link reached with Tab)' },
  { keys: ['→', 'PageDown'], action: 'step', label: 'one step forward' },
  { keys: ['←', 'PageUp'], action: 'back', label: 'one step back' },
  { keys: ['Home'], action: 'first', label: 'first step' },
  { keys: ['End'], action: 'last', label: 'last recorded step' },
  { keys: [']'], action: 'next-chapter', label: 'next chapter' },
  { keys: ['['], action: 'previous-chapter', label: 'previous chapter (or this one\'s start)' },
  { keys: ['Shift + →', '>'], action: 'next-event', label: 'the step\'s next event: its blocks and its pseudocode line' },
  { keys: ['Shift + ←', '<'], action: 'previous-event', label: 'the step\'s previous event (before the first: the whole step)' },
  { keys: ['+'], action: 'faster', label: 'faster' },
  { keys: ['−'], action: 'slower', label: 'slower' },
  { keys: ['n'], action: 'run-to', label: 'run to the next chosen event' },
  { keys: ['p'], action: 'presenter', label: 'presenter mode on / off' },
  { keys: ['q'], action: 'quiz', label: 'quiz mode on / off (asks before a step)' },
  { keys: ['?'], action: 'help', label: 'show these keys' },
  { keys: ['Esc'], action: 'close', label: 'close a dialog or the inspector; back to the whole step' },
]);

/** @type {Record<string, Action>} */
const BY_KEY = {
  ' ': 'toggle-play',
  Spacebar: 'toggle-play',
  '.': 'toggle-play',
  b: 'toggle-play',
  ArrowRight: 'step',
  PageDown: 'step',
  ArrowLeft: 'back',
  PageUp: 'back',
  Home: 'first',
  End: 'last',
  ']': 'next-chapter',
  '[': 'previous-chapter',
  '>': 'next-event',
  '<': 'previous-event',
  '+': 'faster',
  '=': 'faster',
  '-': 'slower',
  _: 'slower',
  n: 'run-to',
  p: 'presenter',
  q: 'quiz',
  '?': 'help',
  Escape: 'close',
};

const TEXT_INPUTS = new Set([
  'text', 'search', 'number', 'email', 'url', 'tel', 'password', 'date', 'time',
  'datetime-local', 'month', 'week', '',
]);

/**
 * Whether the event's target is a place where keys mean typing.
 * @param {any} target
 */
export function isTyping(target) {
  if (!target) return false;
  if (target.isContentEditable) return true;
  const tag = String(target.tagName ?? '').toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') return TEXT_INPUTS.has(String(target.type ?? '').toLowerCase());
  return false;
}

/**
 * @param {{key: string, ctrlKey?: boolean, metaKey?: boolean, altKey?: boolean,
 *          shiftKey?: boolean, target?: any}} event
 * @returns {Action | null}
 */
export function keyAction(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  // Shift with an arrow walks the events of a step instead of the steps.
  const shifted = event.shiftKey && event.key === 'ArrowRight' ? 'next-event' : event.shiftKey && event.key === 'ArrowLeft' ? 'previous-event' : null;
  const action = shifted ?? BY_KEY[event.key] ?? null;
  if (action === null) return null;
  const target = event.target;
  if (action === 'close') return action; // Escape always closes
  if (isTyping(target)) return null;
  const tag = String(target?.tagName ?? '').toUpperCase();
  // Space plays or pauses wherever the focus is (a button clicked a moment ago keeps it,
  // and must not be pressed again, nor the comparison closed); Enter presses a button.
  if (event.key === 'Enter' && (tag === 'BUTTON' || tag === 'SUMMARY' || tag === 'A')) return null;
  // A pfn link in the narration takes no focus from a click (views/pfnlinks.js): one
  // that has it was reached with Tab, and Space presses it as on any link.
  if (event.key === ' ' && target?.classList?.contains('pfn-link')) return null;
  // A focused range input uses the arrow keys, Home and End itself.
  if (tag === 'INPUT' && String(target.type).toLowerCase() === 'range' && /^(Arrow|Home|End|Page)/.test(event.key)) {
    return null;
  }
  return action;
}

/** Speeds the +/− keys and the speed control step through (steps per second). */
export const SPEEDS = Object.freeze([0.25, 0.5, 1, 2, 4, 8, 16, 30, 60, 120, 240]);

/**
 * The next speed up or down from `speed` (which need not be one of SPEEDS).
 * @param {number} speed
 * @param {1 | -1} direction
 */
export function nextSpeed(speed, direction) {
  if (direction > 0) return SPEEDS.find((s) => s > speed + 1e-9) ?? SPEEDS[SPEEDS.length - 1];
  return [...SPEEDS].reverse().find((s) => s < speed - 1e-9) ?? SPEEDS[0];
}
