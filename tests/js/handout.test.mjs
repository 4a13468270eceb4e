import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handoutHref, parseHandoutUrl, stepSays } from '../../frontend/lib/handout.js';

test('the handout address names a scenario; anything else is refused in words', () => {
  assert.deepEqual(parseHandoutUrl('?scenario=head-or-tail'), { scenario: 'head-or-tail', problem: null });
  assert.match(parseHandoutUrl('').problem, /handout.html\?scenario=NAME/);
  assert.match(parseHandoutUrl('?scenario=../x').problem, /"..\/x" is not a scenario name/);
  assert.equal(handoutHref('zone-gate'), 'handout.html?scenario=zone-gate');
  assert.deepEqual(parseHandoutUrl(`?${handoutHref('zone-gate').split('?')[1]}`).scenario, 'zone-gate');
});

test("a step says its phase text, then the event that carries its point", () => {
  const phase = { kind: 'phase', fn: '', zone: '', message: 'Free pfn 0x1: ...' };
  const add = { kind: 'list_add', fn: 'add_to_free_list', zone: 'Normal', message: 'goes to the head' };
  const del = { kind: 'list_del', fn: 'del', zone: 'Normal', message: 'taken' };
  assert.deepEqual(stepSays([phase, del, add]), ['Free pfn 0x1: ...', 'goes to the head']);
  assert.deepEqual(stepSays([phase]), ['Free pfn 0x1: ...']);
  assert.deepEqual(stepSays([]), []);
});
