import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  configSignature, decodeLast, decodeSaved, FOLLOW_WAIT_MS, followRetryDelay, lastState, NAME_MAX, nameProblem, ownOperationsWarning,
  reopenAfterLoss, savedRows, sourceCopyDoc, sourceLabel, stateLinkKind, suggestName, waitingText, whenText,
} from '../../frontend/lib/saved.js';

test('names the server takes (SaveRequest: ^[\\w .,:()+-]+$, 1 to 100 characters)', () => {
  // Each of these was sent to the server's SaveRequest model: it takes them all.
  for (const name of ['lecture 3', 'v2 (batch 16): 5.3, seed 2+1', 'a_b-c.d', 'é', 'e\u0301', '日本', '٣', 'Ⅻ', 'ß', 'a\u200db', 'x‿y', ' ', '...']) {
    assert.equal(nameProblem(name), null, name);
  }
  assert.equal(nameProblem('x'.repeat(NAME_MAX)), null);
  // Characters outside the BMP count once, as the server counts them.
  assert.equal(nameProblem('𝒳'.repeat(NAME_MAX)), null);
});

test('names the server refuses get the reason', () => {
  assert.equal(nameProblem(''), 'Give the session a name.');
  assert.equal(nameProblem('x'.repeat(NAME_MAX + 1)), 'The name is 101 characters long; at most 100.');
  assert.equal(nameProblem('a/b'), 'A name cannot contain “/”: use letters, digits, spaces and _ . , : ( ) + -.');
  assert.equal(nameProblem('a\tb?b?'), 'A name cannot contain "\\t", “?”: use letters, digits, spaces and _ . , : ( ) + -.');
  // ½ is a number but not a decimal digit: the server's \w refuses it.
  assert.match(/** @type {string} */ (nameProblem('½')), /“½”/);
  // The server would store these, but no address can name them (dot segments).
  assert.match(/** @type {string} */ (nameProblem('.')), /cannot be opened from an address/);
  assert.match(/** @type {string} */ (nameProblem('..')), /cannot be opened from an address/);
});

test('the saved list: newest first, what it runs, steps and when', () => {
  const now = 1_700_000_000;
  const rows = savedRows(
    [
      { name: 'old', saved_at: now - 3 * 86400, scenario: 'v2-boundary', steps: 1 },
      { name: 'trace run', saved_at: now - 7200, scenario: 'trace', steps: 12_345 },
      { name: 'fresh', saved_at: now - 5, scenario: 'workload', steps: 0 },
      { name: 'proc', saved_at: now - 600, scenario: 'buddyinfo', steps: 3 },
    ],
    now,
  );
  assert.deepEqual(rows.map((r) => [r.name, r.runs, r.steps]), [
    ['fresh', 'workload file', '0 steps'],
    ['proc', '/proc snapshot', '3 steps'],
    ['trace run', 'kernel trace', '12,345 steps'],
    ['old', 'scenario v2-boundary', '1 step'],
  ]);
  assert.deepEqual(rows.slice(0, 3).map((r) => r.when), ['just now', '10 min ago', '2 h ago']);
  const d = new Date((now - 3 * 86400) * 1000);
  const two = (n) => String(n).padStart(2, '0');
  assert.equal(rows[3].when, `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`);
  assert.equal(rows[3].title, d.toISOString());
  assert.equal(sourceLabel('default'), 'scenario default');
  assert.equal(whenText(now - 59, now), 'just now');
  assert.equal(whenText(now - 3599, now), '59 min ago');
});

test("GET /api/saved's answer is checked", () => {
  assert.deepEqual(decodeSaved([{ name: 'a', saved_at: 1.5, scenario: 's', steps: 2, extra: 1 }]), [
    { name: 'a', saved_at: 1.5, scenario: 's', steps: 2 },
  ]);
  assert.throws(() => decodeSaved({ detail: 'x' }), /not a list/);
  assert.throws(() => decodeSaved([{ name: 'a', saved_at: 1, scenario: 's', steps: 1.5 }]), /saved session 0/);
});

test('a suggested name is one the server takes', () => {
  assert.equal(suggestName({ step: 7, config: { scenario: 'v2-boundary', source: { kind: 'scenario', name: 'v2-boundary' } } }), 'v2-boundary at step 7');
  const s = suggestName({ step: 0, config: { scenario: 'workload', source: { kind: 'workload', name: 'my/file?.json' } } });
  assert.equal(s, 'workload my-file-.json at step 0');
  assert.equal(nameProblem(s), null);
  const long = suggestName({ step: 123456, config: { scenario: 'x'.repeat(300) } });
  assert.equal(nameProblem(long), null);
});

test('the configuration signature changes with what configure changes, not with the step', () => {
  const config = { scenario: 'small', seed: 1, hinting: 'none', kernel: '5.10', pcp: false, pages: null, hinting_options: { b: 2, a: 1 } };
  assert.equal(configSignature(config), configSignature({ ...config, hinting_options: { a: 1, b: 2 } }));
  for (const change of [{ seed: 2 }, { hinting: 'reporting' }, { kernel: '5.3' }, { pcp: true }, { pages: 4096 }, { hinting_options: { a: 2, b: 2 } }, { source: { kind: 'workload', name: 'x' } }]) {
    assert.notEqual(configSignature({ ...config, ...change }), configSignature(config), JSON.stringify(change));
  }
});

const scenarioState = { step: 9, config: { scenario: 'buddy-basics', source: { kind: 'scenario' } } };
const workloadState = { step: 4, config: { scenario: 'workload', source: { kind: 'workload' } } };

test('after a restart: the saved session first, then a scenario, else the default said plainly', () => {
  assert.deepEqual(reopenAfterLoss('abcdefgh', workloadState, 'lecture'), {
    open: 'saved', name: 'lecture', step: 4,
    text: 'The server restarted (session abcdef… is gone): reopened your saved session “lecture” at step 4.',
  });
  assert.equal(reopenAfterLoss('abcdefgh', scenarioState, 'x').open, 'saved');
  assert.deepEqual(reopenAfterLoss('abcdefgh', scenarioState, null), {
    open: 'scenario', text: 'The server restarted (session abcdef… is gone): reopened buddy-basics at step 9 in a new session.',
  });
  // A session without a source field (older servers) runs its scenario.
  assert.equal(reopenAfterLoss('abcdefgh', { step: 1, config: { scenario: 'small' } }, null).open, 'scenario');
  const lost = reopenAfterLoss('abcdefgh', workloadState, null);
  assert.equal(lost.open, 'default');
  assert.equal(
    lost.text,
    'The server restarted and the session loaded from a workload file (abcdef…) is gone: a loaded session lasts only ' +
      'while the server runs unless it is saved (share → save as). Opened the default session instead.',
  );
  assert.match(reopenAfterLoss('a', { step: 0, config: { scenario: 'trace', source: { kind: 'trace' } } }, null).text, /loaded from a kernel trace/);
  assert.deepEqual(reopenAfterLoss('abcdefgh', null, null), { open: 'default', text: 'Session abcdef… does not exist on this server; started a new one.', keep: false });
});

test("the share dialog's state link: scenario parameters, the saved name, or none and why", () => {
  assert.equal(stateLinkKind(scenarioState, null).kind, 'scenario');
  assert.equal(stateLinkKind(scenarioState, 'x').kind, 'scenario');
  const saved = stateLinkKind(workloadState, 'lecture');
  assert.equal(saved.kind, 'saved');
  assert.match(saved.text, /saved session “lecture” .* at step 4/);
  const none = stateLinkKind({ step: 0, config: { scenario: 'buddyinfo', source: { kind: 'buddyinfo' } } }, null);
  assert.equal(none.kind, 'none');
  assert.match(none.text, /^No link to this state: a session loaded from a \/proc snapshot .* lasts only while the server runs/);
});

test("the comparison's copy of a loaded session: the current branch's source under the other strategy", () => {
  const config = { scenario: 'workload', kernel: '5.7', hinting: 'hinting-v2', constants: { capacity: 8 }, seed: 3, workload: '@file:sha256:ab' };
  const doc = {
    format: 'buddyscope-session', version: 1, name: 'x', current: { branch: 1, step: 40 }, speed: 8, breakpoints: ['merge'],
    branches: [
      { id: 0, parent: null, fork_step: 0, reason: 'start', config: { ...config, kernel: null }, log: [30] },
      { id: 1, parent: 0, fork_step: 20, reason: 'configure', config, log: [20, ['alloc', 3, 'Movable', null], 19] },
    ],
    files: { ab: '{"workload": []}' },
  };
  assert.deepEqual(sourceCopyDoc(doc, 'reporting'), {
    format: 'buddyscope-session', version: 1, current: { branch: 0, step: 0 },
    branches: [{ id: 0, parent: null, fork_step: 0, reason: 'start', config: { ...config, hinting: 'reporting', constants: {} }, log: [] }],
    files: { ab: '{"workload": []}' },
  });
  assert.throws(() => sourceCopyDoc({ ...doc, current: { branch: 7 } }, 'none'), /no branch 7/);
});

test('after a restart, a page holding the token reopens the session under its id', () => {
  assert.deepEqual(reopenAfterLoss('abcdefgh', workloadState, 'lecture', true), {
    open: 'saved', name: 'lecture', step: 4,
    text: 'The server restarted: reopened your saved session “lecture” at step 4 as session abcdef… again, so its followers follow it again.',
  });
  assert.deepEqual(reopenAfterLoss('abcdefgh', scenarioState, null, true), {
    open: 'scenario',
    text: 'The server restarted: reopened buddy-basics at step 9 as session abcdef… again, so its followers follow it again.',
  });
  // Operations done by hand up to the step are not replayed, and it says so.
  const handMade = { ...scenarioState, firstOwnStep: 3 };
  assert.deepEqual(reopenAfterLoss('abcdefgh', handMade, null, true), {
    open: 'scenario',
    text:
      'The server restarted: reopened buddy-basics at step 9 as session abcdef… again, so its followers follow it again; ' +
      'the operations you did by hand from step 3 on are not in it (a scenario replays only its own steps; save a session by name to keep them).',
  });
  assert.equal(
    reopenAfterLoss('abcdefgh', handMade, null).text,
    'The server restarted (session abcdef… is gone): reopened buddy-basics at step 9 in a new session; the operations you did ' +
      'by hand from step 3 on are not in it (a scenario replays only its own steps; save a session by name to keep them).',
  );
  // At or before the step; after it (the page went back before them) nothing is missing.
  assert.match(reopenAfterLoss('abcdefgh', { ...scenarioState, firstOwnStep: 9 }, null, true).text, /from step 9 on are not in it/);
  assert.equal(reopenAfterLoss('abcdefgh', { ...scenarioState, firstOwnStep: 10 }, null, true).text, reopenAfterLoss('abcdefgh', scenarioState, null, true).text);
  // A saved session keeps them: nothing to say.
  assert.doesNotMatch(reopenAfterLoss('abcdefgh', handMade, 'lecture', true).text, /by hand/);
  // A loaded session never saved cannot come back, token or not.
  assert.equal(reopenAfterLoss('abcdefgh', workloadState, null, true).open, 'default');
});

test('a follower asks again after 0.5 s, doubling to 5 s, for five minutes, then stops', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 60].map((a) => followRetryDelay(a, 0)), [500, 1000, 2000, 4000, 5000, 5000, 5000]);
  assert.equal(followRetryDelay(3, FOLLOW_WAIT_MS - 100), 100); // never past the end
  assert.equal(followRetryDelay(0, FOLLOW_WAIT_MS), null);
  assert.equal(FOLLOW_WAIT_MS, 300_000);
  // Every delay is a wait: no busy loop, and the total stays bounded.
  let waited = 0;
  let asks = 0;
  for (let d = followRetryDelay(0, 0); d !== null; d = followRetryDelay(asks, waited)) {
    assert.ok(d >= 1);
    waited += d;
    asks += 1;
  }
  assert.equal(waited, FOLLOW_WAIT_MS);
  assert.ok(asks < 70, String(asks));
});

test('a waiting follower says what it waits for, and what to do once it stops', () => {
  assert.equal(
    waitingText({ session: 'abcdefgh', seen: true, gaveUp: false }),
    "Waiting for the presenter's session abcdef… to come back (the server restarted): this page follows it again as soon as the presenter's page reopens it.",
  );
  assert.match(waitingText({ session: 'abcdefgh', seen: false, gaveUp: false }), /^No session abcdef… on this server \(yet\): waiting for its presenter/);
  assert.equal(
    waitingText({ session: 'abcdefgh', seen: true, gaveUp: true }),
    "The presenter's session abcdef… did not come back within 5 minutes. Ask the presenter for the follow link (share → follow link) and open it, or reload this page to wait again.",
  );
});

test('the share link warns exactly when operations done by hand come before its step', () => {
  assert.equal(ownOperationsWarning(null, 9), null);
  assert.equal(ownOperationsWarning(4, 3), null); // the link stops before the first one
  assert.match(/** @type {string} */ (ownOperationsWarning(3, 3)), /^This link replays the scenario only: .*\(the first at step 3\).*save the session by name/);
  assert.notEqual(ownOperationsWarning(1, 9), null);
});

test('what a tab keeps of its session for a reload after a restart, read back strictly', () => {
  const state = {
    step: 7, seq: 99, zones: [],
    config: { scenario: 'buddy-basics', seed: 2, hinting: 'reporting', kernel: '5.7', pages: null, pcp: false, hinting_options: { capacity: 16 }, source: { kind: 'scenario', name: 'buddy-basics', title: 't' } },
  };
  const kept = lastState(state);
  assert.deepEqual(kept, {
    step: 7,
    config: { scenario: 'buddy-basics', seed: 2, hinting: 'reporting', kernel: '5.7', pages: null, hinting_options: { capacity: 16 }, source: { kind: 'scenario' } },
    firstOwnStep: null,
  });
  assert.deepEqual(decodeLast(JSON.stringify(kept)), kept);
  // With operations done by hand from step 3: kept, and read back.
  const own = lastState(state, 3);
  assert.equal(own.firstOwnStep, 3);
  assert.deepEqual(decodeLast(JSON.stringify(own)), own);
  // A state kept before the field existed reads as having none.
  const { firstOwnStep: _, ...old } = kept;
  assert.deepEqual(decodeLast(JSON.stringify(old)), kept);
  assert.equal(reopenAfterLoss('abcdefgh', decodeLast(JSON.stringify(kept)), null, true).open, 'scenario');
  for (const bad of [null, '', 'nope', '{}', JSON.stringify({ ...kept, step: -1 }), JSON.stringify({ ...kept, config: { ...kept.config, seed: '2' } }),
    JSON.stringify({ ...kept, config: { ...kept.config, hinting_options: { capacity: 'x' } } }), JSON.stringify({ ...kept, config: { ...kept.config, source: { kind: 3 } } }),
    JSON.stringify({ ...kept, firstOwnStep: 0 }), JSON.stringify({ ...kept, firstOwnStep: '3' }), JSON.stringify({ ...kept, firstOwnStep: 2.5 })]) {
    assert.equal(decodeLast(bad), null, String(bad));
  }
});
