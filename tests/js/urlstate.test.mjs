import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  configureFor, formatConstants, formatUrlState, heldToken, joinFor, keep, noteOpened, pagesFact, parseConstants, parseUrlState, reopenedSession,
  reopenJoin, shareState, tokenKey,
  websocketUrl,
} from '../../frontend/lib/urlstate.js';

test('a shareable URL round-trips', () => {
  const state = { scenario: 'v2-boundary', seed: 3, strategy: 'hinting-v2', kernel: '5.3', step: 12 };
  const search = formatUrlState(state);
  assert.equal(search, '?scenario=v2-boundary&seed=3&strategy=hinting-v2&kernel=5.3&step=12');
  assert.deepEqual(parseUrlState(search), { state, problems: [] });
});

test('pages, session, presenter and compare', () => {
  const { state, problems } = parseUrlState('?pages=1048576&session=abc-1&token=t0k&presenter=1&compare=reporting');
  assert.deepEqual(problems, []);
  assert.deepEqual(state, { pages: 1048576, session: 'abc-1', token: 't0k', presenter: true, compare: 'reporting' });
  assert.equal(parseUrlState('?presenter=0').state.presenter, false);
});

test('bad values are dropped and named, never guessed', () => {
  const { state, problems } = parseUrlState('?seed=-1&step=x&pages=0&kernel=6.1&strategy=magic&scenario=../etc');
  assert.deepEqual(state, {});
  assert.equal(problems.length, 6);
  assert.match(problems.join(' '), /kernel=6.1: expected one of 5.3, 5.7, 5.10/);
});

test('strategy aliases', () => {
  assert.equal(parseUrlState('?strategy=v2').state.strategy, 'hinting-v2');
});

test('configure sends only what differs from the session', () => {
  const config = { scenario: 'default', seed: 0, hinting: 'none', kernel: '5.10', pages: null };
  assert.deepEqual(configureFor({}, config), {});
  assert.deepEqual(configureFor({ scenario: 'default', seed: 0 }, config), {});
  assert.deepEqual(configureFor({ strategy: 'reporting', kernel: '5.7', pages: 4096, seed: 2 }, config), {
    hinting: 'reporting', kernel: '5.7', pages: 4096, seed: 2,
  });
  // A new strategy names its kernel even when it is the session's: v2 without one
  // would run on 5.3, not on the 5.10 the address (or the compare view) asks for.
  assert.deepEqual(configureFor({ strategy: 'hinting-v2', kernel: '5.10' }, config), { hinting: 'hinting-v2', kernel: '5.10' });
  assert.deepEqual(configureFor({ strategy: 'none', kernel: '5.10' }, config), {});
});

test('shareState reads the session', () => {
  const s = shareState({ config: { scenario: 'a', seed: 1, hinting: 'reporting', kernel: '5.10', pages: 8 }, step: 4 });
  assert.deepEqual(s, { scenario: 'a', seed: 1, strategy: 'reporting', kernel: '5.10', step: 4, pages: 8 });
});

/** The /ws URL the page opens for an address. */
const wsFor = (search, protocol = 'http:') => websocketUrl({ protocol, host: 'h:1' }, joinFor(parseUrlState(search).state));

test('a shared address opens its session through the /ws query in one step', () => {
  // The configuration goes to /ws under the address's names; step, presenter and
  // compare stay the page's (it seeks to the step once the session is open).
  assert.equal(
    wsFor('?scenario=v2-boundary&seed=3&strategy=v2&kernel=5.3&step=12&presenter=1&compare=reporting'),
    'ws://h:1/ws?scenario=v2-boundary&seed=3&strategy=hinting-v2&kernel=5.3',
  );
  assert.equal(wsFor('?pages=1048576&strategy=reporting', 'https:'), 'wss://h:1/ws?strategy=reporting&pages=1048576');
  assert.equal(wsFor(''), 'ws://h:1/ws');
  assert.equal(wsFor('?step=40'), 'ws://h:1/ws');
  // Values the page refuses are not sent either: the server would refuse them too.
  assert.equal(wsFor('?seed=x&kernel=6.1&scenario=small'), 'ws://h:1/ws?scenario=small');
});

test('joining a session sends only the session and its token', () => {
  assert.equal(wsFor('?session=abc-1&token=t0k&scenario=small&seed=2'), 'ws://h:1/ws?session=abc-1&token=t0k');
  assert.equal(wsFor('?session=abc-1'), 'ws://h:1/ws?session=abc-1');
  assert.deepEqual(joinFor({ session: 's', token: 't', strategy: 'none' }), { session: 's', token: 't' });
  assert.deepEqual(joinFor({ strategy: 'none', step: 3, presenter: true }), { strategy: 'none' });
});

test('saved=NAME opens a saved session and round-trips with its step', () => {
  const { state, problems } = parseUrlState('?saved=lecture+3%3A+v2&step=12&presenter=1');
  assert.deepEqual(problems, []);
  assert.deepEqual(state, { saved: 'lecture 3: v2', step: 12, presenter: true });
  assert.equal(formatUrlState(state), '?saved=lecture+3%3A+v2&step=12&presenter=1');
  assert.deepEqual(parseUrlState(formatUrlState(state)).state, state);
  // The page opens it over REST first: /ws gets nothing from it.
  assert.deepEqual(joinFor(state), {});
  assert.equal(wsFor('?saved=x&session=abc-1&token=t0k'), 'ws://h:1/ws?session=abc-1&token=t0k');
});

test('saved next to session names what the session was saved as', () => {
  const { state, problems } = parseUrlState('?session=abc-1&token=t0k&saved=lecture');
  assert.deepEqual(problems, []);
  assert.deepEqual(state, { session: 'abc-1', token: 't0k', saved: 'lecture' });
});

test('a saved name the server would refuse, or a configuration next to it, is named and dropped', () => {
  const bad = parseUrlState('?saved=a%2Fb');
  assert.deepEqual(bad.state, {});
  assert.deepEqual(bad.problems, ['saved="a/b": A name cannot contain “/”: use letters, digits, spaces and _ . , : ( ) + -.']);
  assert.equal(parseUrlState('?saved=').problems[0], 'saved="": Give the session a name.');
  const mixed = parseUrlState('?saved=lecture&scenario=small&seed=2&step=4');
  assert.deepEqual(mixed.state, { saved: 'lecture', step: 4 });
  assert.deepEqual(mixed.problems, ['scenario, seed next to saved: the saved session keeps its own configuration']);
});

test('the control token is read from an address but never written into one', () => {
  assert.equal(formatUrlState({ session: 'abc-1', token: 't0k', saved: 'x', presenter: true }), '?saved=x&session=abc-1&presenter=1');
  // The websocket still carries it: that is how the tab controls.
  assert.equal(websocketUrl({ protocol: 'http:', host: 'h' }, { session: 'abc-1', token: 't0k' }), 'ws://h/ws?session=abc-1&token=t0k');
});

test('the tab keeps tokens in its storage under the session id', () => {
  const data = new Map();
  const store = { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => data.set(k, v) };
  assert.equal(heldToken(store, 's1'), null);
  keep(store, tokenKey('s1'), 'tok_1-A');
  assert.equal(heldToken(store, 's1'), 'tok_1-A');
  assert.equal(heldToken(store, 's2'), null);
  // Something else under the key (the user's storage) is not a token.
  keep(store, tokenKey('s2'), '<script>');
  assert.equal(heldToken(store, 's2'), null);
  // A storage that refuses (a privacy mode) or none: nothing held, nothing thrown.
  const refusing = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); } };
  assert.equal(heldToken(refusing, 's1'), null);
  keep(refusing, tokenKey('s1'), 't');
  assert.equal(heldToken(null, 's1'), null);
});

test('a reload joins the session the tab opened from the same address, nothing else does', () => {
  const data = new Map();
  const store = { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => data.set(k, v) };
  assert.equal(reopenedSession(store, '?scenario=buddy-basics'), null, 'a new tab opens as the address says');
  keep(store, tokenKey('s1'), 'tok1');
  noteOpened(store, '?scenario=buddy-basics', 's1');
  assert.equal(reopenedSession(store, '?scenario=buddy-basics'), 's1');
  assert.equal(reopenedSession(store, '?scenario=buddy-basics&seed=2'), null, 'another address: another session');
  noteOpened(store, '?scenario=v2-boundary', 's2');
  assert.equal(reopenedSession(store, '?scenario=v2-boundary'), null, 'no token held: not ours to join');
  assert.equal(reopenedSession(store, '?scenario=buddy-basics'), null, 'only the last one opened counts');
  data.set('buddyscope.opened', '{not json');
  assert.equal(reopenedSession(store, '?scenario=v2-boundary'), null);
  const refusing = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); } };
  noteOpened(refusing, '', 's1');
  assert.equal(reopenedSession(refusing, ''), null);
});

test('constants: parsed and checked as the server checks them, written readable and sorted', () => {
  assert.deepEqual(parseConstants('capacity:16,delay_s:2.5,hwm:-1'), { capacity: 16, delay_s: 2.5, hwm: -1 });
  for (const [text, why] of [
    ['', /no constants/],
    ['capacity', /"capacity" is not name:number/],
    ['capacity:x', /is not name:number/],
    ['Capacity:1', /is not name:number/],
    ['capacity:1e3', /is not name:number/],
    ['capacity:1,capacity:2', /constant capacity is given twice/],
    [Array.from({ length: 17 }, (_, i) => `c${i}:1`).join(','), /17 constants; at most 16/],
  ]) {
    assert.throws(() => parseConstants(text), why, text);
  }
  assert.equal(formatConstants({ hwm: 8, capacity: 16 }), 'capacity:16,hwm:8');
  assert.equal(formatConstants(undefined), '');
  const state = { scenario: 'v2-boundary', strategy: 'hinting-v2', constants: { hwm: 8, capacity: 16 }, step: 3 };
  const search = formatUrlState(state);
  assert.equal(search, '?scenario=v2-boundary&strategy=hinting-v2&constants=capacity:16,hwm:8&step=3');
  assert.deepEqual(parseUrlState(search), { state, problems: [] });
  const bad = parseUrlState('?constants=capacity:x&seed=2');
  assert.deepEqual(bad.state, { seed: 2 });
  assert.deepEqual(bad.problems, ['constants=capacity:x: "capacity:x" is not name:number (a lower-case name, a decimal number)']);
});

test('constants travel in the share link, the /ws query and configure', () => {
  const config = { scenario: 'buddy-basics', seed: 0, hinting: 'reporting', kernel: '5.10', pages: null, hinting_options: { capacity: 16 } };
  const share = shareState({ config, step: 3 });
  assert.deepEqual(share, { scenario: 'buddy-basics', seed: 0, strategy: 'reporting', kernel: '5.10', step: 3, constants: { capacity: 16 } });
  assert.equal(wsFor(formatUrlState(share)), 'ws://h:1/ws?scenario=buddy-basics&seed=0&strategy=reporting&kernel=5.10&constants=capacity:16');
  // No constants set: none in the link.
  assert.equal(shareState({ config: { ...config, hinting_options: {} }, step: 0 }).constants, undefined);
  assert.deepEqual(configureFor({ constants: { capacity: 16 } }, config), {});
  assert.deepEqual(configureFor({ constants: { capacity: 8 } }, config), { constants: { capacity: 8 } });
  assert.deepEqual(configureFor({ constants: { capacity: 8 } }, { ...config, hinting_options: undefined }), { constants: { capacity: 8 } });
  // Next to saved=, constants are the saved session's business.
  assert.deepEqual(parseUrlState('?saved=x&constants=capacity:1').problems, ['constants next to saved: the saved session keeps its own configuration']);
});

test('a controller reopens its lost session under its id, with what to reopen it as', () => {
  const share = { scenario: 'buddy-basics', seed: 4, strategy: 'reporting', kernel: '5.7', step: 9, constants: { capacity: 16 } };
  const join = reopenJoin('abc-1', 't0k', share);
  assert.deepEqual(join, { session: 'abc-1', token: 't0k', scenario: 'buddy-basics', seed: 4, strategy: 'reporting', kernel: '5.7', constants: { capacity: 16 } });
  assert.equal(
    websocketUrl({ protocol: 'http:', host: 'h' }, join),
    'ws://h/ws?session=abc-1&token=t0k&scenario=buddy-basics&seed=4&strategy=reporting&kernel=5.7&constants=capacity:16',
  );
  // A follower's join carries the id only.
  assert.equal(websocketUrl({ protocol: 'http:', host: 'h' }, { session: 'abc-1', scenario: 'x' }), 'ws://h/ws?session=abc-1');
});

test('a session resized by pages shows its size, not the scenario it was resized from', () => {
  assert.deepEqual(pagesFact({ scenario: 'small', pages: 1048576, source: { kind: 'scenario' } }, ['Normal']), {
    text: '1,048,576 pages',
    title: 'one zone (Normal) of 1,048,576 pages: the small scenario resized (pages=1048576)',
  });
  assert.equal(pagesFact({ scenario: 'default', pages: 8192 }, ['DMA', 'DMA32', 'Normal'])?.text, 'default, Normal of 8,192 pages');
  assert.equal(pagesFact({ scenario: 'small', pages: null }, ['Normal']), null);
  assert.equal(pagesFact({ scenario: 'workload', pages: 64, source: { kind: 'workload' } }, ['Normal']), null);
});
