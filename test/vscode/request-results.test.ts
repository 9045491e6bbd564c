// The editor-side helpers of request-file runs (src/vscode/request-results.ts, no VS Code needed): the result
// document's JSON and its trace-link lines, which diagnostics stop a run, the request under the cursor, folding of
// `###` blocks, a cancellable RunCall and the run summary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeRequestFile, parseRequestFile, runRequests, type RequestRunResult, type RunCall } from '../../src/reqfile';
import { apiSchema } from '../../src/tl/bundled';
import {
  abortableCall,
  blockingErrors,
  chainLines,
  describeDiagnostics,
  renderResults,
  requestFoldingRanges,
  requestIndexAt,
  resultJson,
  runSummary,
} from '../../src/vscode/request-results';

const FILE = `@self = {"_": "inputUserSelf"}

### Who am I
users.getUsers
{ "id": [ {{self}} ] }
@me = {{response[0].id}}


### Again, on DC 2
@dc 2
users.getUsers
{
  "id": [{ "_": "inputUser", "user_id": "{{me}}", "access_hash": "0" }]
}
`;

const ok: RequestRunResult = {
  index: 0,
  title: 'Who am I',
  method: 'users.getUsers',
  dcId: 4,
  ok: true,
  durationMs: 12,
  result: [{ _: 'user', id: '7000041234', first_name: 'Sandbox', request: 'not a key of the entry' }],
  traceId: '30',
  chain: '+     0ms  chain #30: users.getUsers @DC4 → Vector(1)  (11 ms)',
  assigned: { me: '7000041234' },
};
const failed: RequestRunResult = {
  index: 1,
  method: 'users.getUsers',
  dcId: 2,
  ok: false,
  durationMs: 5,
  error: { code: 'USER_ID_INVALID', message: '400 USER_ID_INVALID from users.getUsers on DC2', dcId: 2 },
  traceId: '41',
  chain: '+     0ms  chain #41: users.getUsers @DC2 → transfer DC4 → DC2 → USER_ID_INVALID  (8 ms)',
  assigned: {},
};

test('resultJson: label, status fields first, the chain without its prefix, the result last', () => {
  const j = resultJson(ok);
  assert.deepEqual(Object.keys(j), ['request', 'title', 'dc', 'ok', 'durationMs', 'assigned', 'trace', 'traceId', 'result']);
  assert.equal(j.request, '#1 users.getUsers');
  assert.deepEqual(j.trace, ['users.getUsers @DC4 → Vector(1)  (11 ms)']);
  assert.deepEqual(Object.keys(resultJson(failed)), ['request', 'dc', 'ok', 'durationMs', 'error', 'trace', 'traceId']);
  assert.deepEqual(chainLines('+  0ms  chain #1: a → b\n+  3ms  chain #7: c'), ['a → b', 'c']);
  assert.deepEqual(chainLines(undefined), []);
});

test('renderResults: one object (lens on line 0) or an array (a lens on each entry that has a trace id)', () => {
  const one = renderResults([ok], { all: false });
  assert.deepEqual(JSON.parse(one.text), resultJson(ok));
  assert.deepEqual(one.links, [{ line: 0, traceId: 30, title: 'Show call in DC Lab trace' }]);

  const noTrace: RequestRunResult = { ...failed, index: 2, traceId: undefined, chain: undefined, error: { code: 'VALIDATION', message: 'x' } };
  const all = renderResults([ok, failed, noTrace], { all: true });
  const lines = all.text.split('\n');
  assert.equal(JSON.parse(all.text).length, 3);
  assert.deepEqual(
    all.links.map((l) => [l.traceId, l.title]),
    [
      [30, 'Show call #1 users.getUsers in DC Lab trace'],
      [41, 'Show call #2 users.getUsers in DC Lab trace'],
    ],
  );
  // each lens sits on the `{` that opens its entry, right above the entry's "request"
  for (const l of all.links) {
    assert.equal(lines[l.line], '  {');
    assert.match(lines[l.line + 1]!, /^ {4}"request": "#\d/);
  }
});

test('blockingErrors: the whole file for Run All, one block (+ file-level lines) for one request', () => {
  const text = `${FILE}
### Broken
users.getUzers
{}
`;
  const file = parseRequestFile(text);
  const diags = analyzeRequestFile(text, apiSchema());
  assert.ok(diags.some((d) => d.code === 'unknown-method'));
  assert.equal(blockingErrors(diags, file.requests, 0).length, 0);
  assert.equal(blockingErrors(diags, file.requests, 1).length, 0);
  const broken = blockingErrors(diags, file.requests, 2);
  assert.deepEqual(
    broken.map((d) => d.code),
    ['unknown-method'],
  );
  assert.deepEqual(
    blockingErrors(diags, file.requests).map((d) => d.code),
    ['unknown-method'],
  );
  assert.match(describeDiagnostics(text, broken), /^line 17: unknown method `users.getUzers`/);
});

test('requestIndexAt and requestFoldingRanges follow the ### blocks', () => {
  const file = parseRequestFile(FILE);
  assert.equal(file.requests.length, 2);
  assert.equal(requestIndexAt(file.requests, 0), 0, 'before the first request: the first');
  assert.equal(requestIndexAt(file.requests, FILE.indexOf('{ "id": [ {{self}}')), 0);
  assert.equal(requestIndexAt(file.requests, FILE.indexOf('\n\n\n### Again') + 2), 0, 'between blocks: the one above');
  assert.equal(requestIndexAt(file.requests, FILE.indexOf('access_hash')), 1);
  assert.equal(requestIndexAt([], 0), undefined);
  // lines: 2 "### Who am I" … 5 "@me = …", 8 "### Again" … 13 "}" (trailing blank lines are not folded); the
  // body of lines 11–13 folds up to the line before its closing brace
  assert.deepEqual(requestFoldingRanges(FILE, file.requests), [
    { start: 2, end: 5 },
    { start: 8, end: 13 },
    { start: 11, end: 12 },
  ]);
  const regions = `# region setup\n@a = 1\n# endregion\n${FILE}`;
  assert.deepEqual(requestFoldingRanges(regions, parseRequestFile(regions).requests)[0], { start: 0, end: 2 });
});

test('abortableCall: a cancelled run stops waiting, and the runner reports ABORTED', async () => {
  const never: RunCall = () => new Promise(() => undefined);
  const abort = new AbortController();
  const run = runRequests(FILE, { schema: apiSchema(), call: abortableCall(never, abort.signal), signal: abort.signal });
  setTimeout(() => abort.abort(), 20);
  const out = await run;
  assert.equal(out.results.length, 1);
  assert.equal(out.results[0]!.error?.code, 'ABORTED');

  const answered: RunCall = async () => ({ result: [], traceId: '7' });
  const r = await abortableCall(answered, new AbortController().signal)({ _: 'help.getConfig' }, {});
  assert.equal(r.traceId, '7');
});

test('runSummary: one request, or a count with the failure and what did not run', () => {
  assert.equal(runSummary([ok], 1), '#1 users.getUsers → ok on DC4 (12 ms)');
  assert.equal(runSummary([failed], 1), '#2 users.getUsers → USER_ID_INVALID: 400 USER_ID_INVALID from users.getUsers on DC2');
  assert.equal(
    runSummary([ok, failed], 3),
    '1 of 3 requests ok; #2 users.getUsers → USER_ID_INVALID: 400 USER_ID_INVALID from users.getUsers on DC2; 1 not run',
  );
});
