import { test } from 'node:test';
import assert from 'node:assert/strict';

import { isTyping, KEYMAP, keyAction, nextSpeed, SPEEDS } from '../../frontend/lib/keys.js';

const body = { tagName: 'BODY' };
const key = (k, target = body, mods = {}) => keyAction({ key: k, target, ...mods });

test('the documented keys', () => {
  assert.equal(key(' '), 'toggle-play');
  assert.equal(key('.'), 'toggle-play', 'clicker blank-screen button');
  assert.equal(key('ArrowRight'), 'step');
  assert.equal(key('PageDown'), 'step', 'clicker next');
  assert.equal(key('ArrowLeft'), 'back');
  assert.equal(key('PageUp'), 'back', 'clicker previous');
  assert.equal(key('Home'), 'first');
  assert.equal(key('End'), 'last');
  assert.equal(key('+'), 'faster');
  assert.equal(key('='), 'faster', '+ without shift');
  assert.equal(key('-'), 'slower');
  assert.equal(key('?'), 'help');
  assert.equal(key('p'), 'presenter');
  assert.equal(key('q'), 'quiz');
  assert.equal(key('Escape'), 'close');
  assert.equal(key('x'), null);
});

test('shortcuts are ignored while typing in a field', () => {
  for (const target of [
    { tagName: 'INPUT', type: 'text' },
    { tagName: 'INPUT', type: 'number' },
    { tagName: 'input', type: '' },
    { tagName: 'TEXTAREA' },
    { tagName: 'SELECT' },
    { tagName: 'DIV', isContentEditable: true },
  ]) {
    assert.equal(isTyping(target), true, JSON.stringify(target));
    for (const k of [' ', 'ArrowRight', 'ArrowLeft', 'Home', '+', '-', '?', '.', 'p']) {
      assert.equal(key(k, target), null, `${k} in ${JSON.stringify(target)}`);
    }
  }
  assert.equal(key('Escape', { tagName: 'INPUT', type: 'text' }), 'close', 'Escape still closes');
  assert.equal(isTyping({ tagName: 'INPUT', type: 'checkbox' }), false);
});

test('Space plays or pauses on a focused button, Enter presses it; sliders keep their arrows; modifiers are the browser’s', () => {
  assert.equal(key(' ', { tagName: 'BUTTON' }), 'toggle-play');
  assert.equal(key(' ', { tagName: 'SUMMARY' }), 'toggle-play');
  assert.equal(key('Enter', { tagName: 'BUTTON' }), null);
  assert.equal(key('ArrowRight', { tagName: 'BUTTON' }), 'step');
  assert.equal(key('ArrowRight', { tagName: 'INPUT', type: 'range' }), null);
  assert.equal(key(' ', { tagName: 'INPUT', type: 'range' }), 'toggle-play');
  assert.equal(key('ArrowRight', body, { ctrlKey: true }), null);
  assert.equal(key('+', body, { metaKey: true }), null);
  assert.equal(key('p', body, { altKey: true }), null);
});

test('the help lists every action once', () => {
  const actions = KEYMAP.map((k) => k.action);
  assert.equal(new Set(actions).size, actions.length);
});

test('speeds step up and down and stop at the ends', () => {
  assert.equal(nextSpeed(1, 1), 2);
  assert.equal(nextSpeed(1, -1), 0.5);
  assert.equal(nextSpeed(3, 1), 4);
  assert.equal(nextSpeed(3, -1), 2);
  assert.equal(nextSpeed(SPEEDS.at(-1), 1), SPEEDS.at(-1));
  assert.equal(nextSpeed(SPEEDS[0], -1), SPEEDS[0]);
});

test('Shift with an arrow, or < and >, walks the events of a step', () => {
  assert.equal(key('ArrowRight', body, { shiftKey: true }), 'next-event');
  assert.equal(key('ArrowLeft', body, { shiftKey: true }), 'previous-event');
  assert.equal(key('>'), 'next-event');
  assert.equal(key('<'), 'previous-event');
  assert.equal(key('ArrowRight'), 'step', 'without Shift an arrow still steps');
  assert.equal(key('ArrowRight', { tagName: 'INPUT', type: 'range' }, { shiftKey: true }), null, 'a slider keeps its arrows');
  assert.equal(key('ArrowRight', body, { shiftKey: true, ctrlKey: true }), null);
});

test('Space presses a pfn link of the narration (it has the focus only from Tab); other keys stay global', () => {
  const link = { tagName: 'BUTTON', classList: { contains: (c) => c === 'pfn-link' } };
  assert.equal(key(' ', link), null);
  assert.equal(key('Enter', link), null);
  assert.equal(key('ArrowRight', link), 'step');
  assert.equal(key('.', link), 'toggle-play');
  const other = { tagName: 'BUTTON', classList: { contains: () => false } };
  assert.equal(key(' ', other), 'toggle-play');
});
