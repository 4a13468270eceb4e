import { test } from 'node:test';
import assert from 'node:assert/strict';

import { joinProcTexts, lineSpan, problemsOf, sourceFact, uploadRequest } from '../../frontend/lib/sources.js';

test('each kind posts its text as the body of its route', () => {
  const w = uploadRequest('workload', '{"name": "x"}');
  assert.equal(w.url, '/api/sessions/from-workload');
  assert.equal(w.init.method, 'POST');
  assert.equal(w.init.body, '{"name": "x"}');
  assert.equal(/** @type {any} */ (w.init.headers)['content-type'], 'application/json');
  assert.equal(uploadRequest('proc', 'Node 0', { hinting: 'reporting' }).url, '/api/sessions/from-proc?hinting=reporting');
  assert.equal(uploadRequest('trace', 't', { hinting: '' }).url, '/api/sessions/from-trace');
  assert.throws(() => uploadRequest(/** @type {any} */ ('yaml'), ''), /no source kind/);
  assert.throws(() => uploadRequest('trace', '', { hinting: 'magic' }), /no strategy/);
});

test("a workload file's problems keep the server's words and their line", () => {
  // What POST /api/sessions/from-workload answers for a bad file (backend/rest/sessions.py).
  const body = {
    detail: [
      { loc: ['body', 'workload'], msg: 'line 1: workload: Field required', type: 'invalid_file' },
      { loc: ['body', 'workload'], msg: 'line 3: steps: Extra inputs are not permitted', type: 'invalid_file' },
    ],
  };
  assert.deepEqual(problemsOf(422, body), [
    { text: 'line 1: workload: Field required', line: 1 },
    { text: 'line 3: steps: Extra inputs are not permitted', line: 3 },
  ]);
  assert.deepEqual(problemsOf(422, { detail: [{ loc: ['body', 'workload'], msg: 'line 1 column 2: Expecting value', type: 'invalid_file' }] }), [
    { text: 'line 1 column 2: Expecting value', line: 1 },
  ]);
});

test('other refusals: a query field, a sentence, something that is not JSON', () => {
  assert.deepEqual(problemsOf(422, { detail: [{ loc: ['query', 'hinting'], msg: "Input should be 'none'", type: 'literal_error' }] }), [
    { text: "hinting: Input should be 'none'", line: null },
  ]);
  assert.deepEqual(problemsOf(413, { detail: "the text is over this server's limit for it" }), [
    { text: "the text is over this server's limit for it", line: null },
  ]);
  assert.deepEqual(problemsOf(502, '<html>Bad gateway</html>'), [{ text: 'the server answered 502: <html>Bad gateway</html>', line: null }]);
  assert.deepEqual(problemsOf(500, null), [{ text: 'the server answered 500 without a reason', line: null }]);
});

test('buddyinfo goes before pagetypeinfo whatever order the files come in', () => {
  const pti = 'Page block order: 9\nPages per block:  512\n';
  const bi = 'Node 0, zone   Normal      1      0 ';
  assert.equal(joinProcTexts([pti, bi]), `${bi}\n${pti}`);
  assert.equal(joinProcTexts([bi]), `${bi}\n`);
});

test('a line of the text, to select it', () => {
  const text = 'one\ntwo\n\nfour';
  assert.deepEqual(lineSpan(text, 1), { start: 0, end: 3 });
  assert.deepEqual(lineSpan(text, 2), { start: 4, end: 7 });
  assert.deepEqual(lineSpan(text, 3), { start: 8, end: 8 });
  assert.deepEqual(lineSpan(text, 4), { start: 9, end: 13 });
  assert.equal(lineSpan(text, 5), null);
  assert.equal(lineSpan('a\n', 2), null);
  assert.equal(lineSpan(text, 0), null);
});

test('where a session came from', () => {
  assert.deepEqual(sourceFact(null, 'small'), { kind: 'scenario', text: 'small', details: [] });
  const sc = sourceFact({ kind: 'scenario', name: 'v2-boundary', title: '5. The boundary', summary: 'S', look_for: 'L', questions: 2 }, 'v2-boundary');
  assert.equal(sc.text, 'v2-boundary');
  assert.deepEqual(sc.details, ['5. The boundary', 'S', 'Look for: L', '2 quiz questions in the file']);
  assert.equal(sourceFact({ kind: 'workload', name: 'my-mix' }, 'workload').text, 'workload my-mix');
  const bi = sourceFact({ kind: 'buddyinfo', name: 'buddyinfo', summary: '/proc/buddyinfo: zones Normal (4096 pages)', notes: ['extra pageblocks'] }, 'buddyinfo');
  assert.equal(bi.text, 'buddyinfo of a real machine');
  assert.deepEqual(bi.details, ['/proc/buddyinfo: zones Normal (4096 pages)', 'extra pageblocks']);
});

test("a trace says how many events it replayed and how many lines it skipped", () => {
  const summary = '74 mm_page_alloc, 70 mm_page_free over 5.500 s; 149 workload steps; 1 other lines skipped (e.g. line 146)';
  const fact = sourceFact(
    {
      kind: 'trace',
      name: 'trace',
      title: 'A recorded kmem page trace, replayed',
      summary,
      trace: {
        events: { mm_page_alloc: 74, mm_page_free: 70 },
        unknown_lines: 1,
        unknown_examples: [146],
        unmatched_frees: 0,
        duration_s: 5.5,
        steps: 149,
        summary,
      },
    },
    'trace',
  );
  assert.equal(fact.text, 'trace: 144 events, 1 unknown line skipped');
  assert.deepEqual(fact.details, [
    'mm_page_alloc: 74',
    'mm_page_free: 70',
    '149 workload steps over 5.5 s of trace',
    '1 unknown line skipped (e.g. line 146)',
    '0 frees of pages allocated before the trace began (not replayed)',
    'A recorded kmem page trace, replayed',
  ]);
});
