import { test } from 'node:test';
import assert from 'node:assert/strict';

import { exportNotes, refusalText, scenarioFileName, unsavableReason } from '../../frontend/lib/scenariofile.js';

test('the file name says the scenario and the steps, safely', () => {
  assert.equal(scenarioFileName('head-or-tail', 7), 'buddyscope-head-or-tail-7-steps.json');
  assert.equal(scenarioFileName('head-or-tail', 1), 'buddyscope-head-or-tail-1-step.json');
  assert.equal(scenarioFileName('workload:My Lab/../x', 3), 'buddyscope-workload-my-lab-x-3-steps.json');
  assert.equal(scenarioFileName('???', 2), 'buddyscope-session-2-steps.json');
  assert.ok(scenarioFileName('a'.repeat(300), 2).length < 90);
});

test('sessions without a file form are refused before asking the server', () => {
  const config = (kind) => ({ source: kind ? { kind } : null });
  assert.match(unsavableReason({ timelineLength: 0, config: config('scenario') }), /take a step first/);
  assert.match(unsavableReason({ timelineLength: 9, config: config('buddyinfo') }), /\/proc/);
  assert.equal(unsavableReason({ timelineLength: 9, config: config('trace') }), null);
  assert.equal(unsavableReason({ timelineLength: 1, config: {} }), null);
});

test('the notes header and the refusals in words', () => {
  assert.deepEqual(exportNotes(null), []);
  assert.deepEqual(exportNotes('step 4: an advance split | step 9: work after the end'), [
    'step 4: an advance split',
    'step 9: work after the end',
  ]);
  assert.equal(refusalText(409, '{"detail": "the session has no step that a workload file could hold yet"}'),
    'the session has no step that a workload file could hold yet');
  assert.equal(refusalText(422, '{"detail": [{"msg": "line 4: bad"}, {"msg": "line 7: worse"}]}'), 'line 4: bad; line 7: worse');
  assert.equal(refusalText(502, '<html>bad gateway</html>'), 'the server answered 502');
});
