import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canSeed, MACHINE_ROUTE, machineRequest } from '../../frontend/lib/machine.js';

test('the seeding request is a POST with the page header, and a strategy when picked', () => {
  const plain = machineRequest();
  assert.equal(plain.url, MACHINE_ROUTE);
  assert.equal(plain.init.method, 'POST');
  assert.equal(/** @type {any} */ (plain.init.headers)['x-buddyscope-client'], 'page');
  assert.equal(machineRequest({ hinting: 'none' }).url, `${MACHINE_ROUTE}?hinting=none`);
});

test('a reading without frames says why no session can be seeded', () => {
  assert.equal(canSeed(null).ok, false);
  assert.equal(canSeed({ frames: {}, messages: [] }).ok, true);
  const no = canSeed({ frames: null, messages: ['/proc/kpageflags is readable only by root: run buddyscope as root'] });
  assert.equal(no.ok, false);
  assert.match(no.why, /seeded frame by frame: \/proc\/kpageflags is readable only by root/);
});

test('a seeded session names its source and keeps the seed notes', async () => {
  const { sourceFact } = await import('../../frontend/lib/sources.js');
  const fact = sourceFact({ kind: 'machine', name: 'machine', title: 'This machine, frame by frame', summary: 's', notes: ['n1'] }, 'machine');
  assert.equal(fact.text, 'this machine, frame by frame');
  assert.deepEqual(fact.details, ['This machine, frame by frame', 's', 'n1']);
});
