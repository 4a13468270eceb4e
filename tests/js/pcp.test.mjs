import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellTitle, hexPfn, pcpLane, PCP_OFF_TEXT } from '../../frontend/lib/pcp.js';

const set612 = {
  cpu: 1, count: 71, high: 5343, batch: 63, high_min: 5280, high_max: 32768,
  lists: [
    { order: 0, migratetypes: ['Unmovable'], blocks: 0, pfns: [] },
    { order: 0, migratetypes: ['Movable'], blocks: 62, pfns: [0x100001, 0x100002] },
    { order: 0, migratetypes: ['Reclaimable'], blocks: 0, pfns: [] },
    { order: 9, migratetypes: ['Unmovable', 'Reclaimable'], blocks: 0, pfns: [] },
    { order: 9, migratetypes: ['Movable'], blocks: 1, pfns: [0x100200] },
  ],
};

test('a session without per-cpu lists says so', () => {
  assert.deepEqual(pcpLane({ pcp: false }, [set612]), { off: PCP_OFF_TEXT, cpus: [] });
  assert.equal(PCP_OFF_TEXT, 'pcp off: single pages go straight to the buddy lists');
});

test('each CPU: its numbers, and its lists grouped by order in the kernel order', () => {
  const lane = pcpLane({ pcp: true }, [set612]);
  assert.equal(lane.off, null);
  const [cpu] = lane.cpus;
  assert.equal(cpu.title, 'CPU 1: 71 pages, high 5343 (tunes 5280–32768), batch 63');
  assert.equal(cpu.fill, 71 / 5343);
  assert.deepEqual(cpu.rows.map((r) => r.order), [0, 9]);
  assert.deepEqual(cpu.rows[1].cells.map((c) => [c.label, c.blocks, c.pages]), [
    ['Unmovable+Reclaimable', 0, 0],
    ['Movable', 1, 512],
  ]);
});

test('a 5.x set has a fixed high and no range', () => {
  const lane = pcpLane({ pcp: true }, [{ ...set612, cpu: 0, high: 378, high_min: 378, high_max: 378, count: 400 }]);
  assert.equal(lane.cpus[0].title, 'CPU 0: 400 pages, high 378, batch 63');
  assert.equal(lane.cpus[0].fill, 1);
});

test('the hover text names the next blocks in hex', () => {
  assert.equal(hexPfn(0x100200), '0x100200');
  const cell = { label: 'Movable', migratetype: 'Movable', blocks: 3, pages: 24, pfns: [0x10, 0x18] };
  assert.equal(cellTitle(3, cell), 'Movable, order 3: 3 order-3 blocks (24 pages); next: 0x10, 0x18, …');
  const single = { label: 'Movable', migratetype: 'Movable', blocks: 1, pages: 1, pfns: [0x10] };
  assert.equal(cellTitle(0, single), 'Movable, order 0: 1 page; next: 0x10');
});
