import { test } from 'node:test';
import assert from 'node:assert/strict';

import { configureFor, formatUrlState, joinFor, parseUrlState, shareState, websocketUrl } from '../../frontend/lib/urlstate.js';

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
