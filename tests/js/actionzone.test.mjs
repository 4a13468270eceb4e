import assert from 'node:assert/strict';
import { test } from 'node:test';
import { actionZone } from '../../frontend/lib/actionzone.js';

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
