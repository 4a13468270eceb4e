import assert from 'node:assert/strict';
import { test } from 'node:test';
import { actionZone, defaultZone } from '../../frontend/lib/actionzone.js';

const zones = new Set(['DMA', 'DMA32', 'Normal']);

test('the zone most of a step’s events name', () => {
  const events = [{ zone: null }, { zone: 'DMA32' }, { zone: 'Normal' }, { zone: 'DMA32' }];
  assert.equal(actionZone(events, zones), 'DMA32');
  assert.equal(actionZone([{ zone: 'Normal' }, { zone: 'DMA32' }], zones), 'Normal');
});

test('no zone named, or only unknown ones: none', () => {
  assert.equal(actionZone([], zones), null);
  assert.equal(actionZone([{ zone: null }, { zone: 'Movable' }], zones), null);
});

/** A state with zones of these sizes and the strategy's zone fields. */
function shown(sizes, hinting = {}) {
  const list = Object.entries(sizes).map(([name, spannedPages]) => ({ name, spannedPages }));
  return { zones: list, zoneByName: new Map(list.map((z) => [z.name, z])), hinting };
}

test('first shown: the zone of the strategy\'s batch, else Normal, else the largest', () => {
  const sizes = { DMA: 4096, DMA32: 1 << 19, Normal: 1 << 18 };
  assert.equal(defaultZone(shown(sizes, { zone: 'DMA32' })), 'DMA32');
  assert.equal(defaultZone(shown(sizes, { active_zone: 'DMA' })), 'DMA', 'the zone reporting works on');
  assert.equal(defaultZone(shown(sizes, { zone: 'HighMem' })), 'Normal', 'a zone the node has not');
  assert.equal(defaultZone(shown({ DMA: 4096, DMA32: 1 << 19 })), 'DMA32');
  assert.equal(defaultZone(shown({})), '');
});
