import { test } from 'node:test';
import assert from 'node:assert/strict';

import { configureFor, formatUrlState, parseUrlState, shareState, websocketUrl } from '../../frontend/lib/urlstate.js';

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

test('shareState reads the session; the websocket URL carries the session parameters', () => {
  const s = shareState({ config: { scenario: 'a', seed: 1, hinting: 'reporting', kernel: '5.10', pages: null }, step: 4 });
  assert.deepEqual(s, { scenario: 'a', seed: 1, strategy: 'reporting', kernel: '5.10', step: 4 });
  assert.equal(
    websocketUrl({ protocol: 'https:', host: 'h:1' }, { session: 's', token: 't', pages: 8, strategy: 'none', step: 3 }),
    'wss://h:1/ws?session=s&token=t&hinting=none&pages=8',
  );
  assert.equal(websocketUrl({ protocol: 'http:', host: 'h' }, {}), 'ws://h/ws');
});
