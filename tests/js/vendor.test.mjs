import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const root = new URL('../../frontend/vendor/', import.meta.url);

test('every vendored file is the recorded copy and carries its licence', () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const lines = [...readme.matchAll(/^([0-9a-f]{64}) {2}(\S+)$/gm)];
  assert.ok(lines.length >= 3);
  for (const [, sha, path] of lines) {
    const got = createHash('sha256').update(readFileSync(new URL(path, root))).digest('hex');
    assert.equal(got, sha, path);
  }
  assert.match(readFileSync(new URL('uplot/LICENSE', root), 'utf8'), /MIT License/);
});
