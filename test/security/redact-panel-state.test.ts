// The panel's saved state (the query being typed and the query history) keeps no secret: parsed JSON is redacted
// like a trace payload, text still being typed has the values of secret fields replaced, and the rest is untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactJsonText, redactPanelState, type PanelState } from '../../src/ipc/index';

test('redactJsonText: secret fields of a query text are redacted; a text without secrets stays as typed', () => {
  const typed = '{ "_": "auth.signIn", "phone_code": "12345", "phone_code_hash": "h" }';
  const out = redactJsonText(typed);
  assert.ok(!out.includes('12345'), out);
  assert.deepEqual(JSON.parse(out), { _: 'auth.signIn', phone_code: '[redacted]', phone_code_hash: 'h' });
  const plain = '{ "id": [ {"_": "inputUserSelf"} ] }';
  assert.equal(redactJsonText(plain), plain, 'untouched, formatting kept');
  // constructor-bound fields: exported authorization bytes
  assert.ok(!redactJsonText('{"_":"auth.importAuthorization","id":"1","bytes":"c2VjcmV0Ynl0ZXM="}').includes('c2VjcmV0Ynl0ZXM'));
});

test('redactJsonText: a half-typed query (not JSON yet) loses the values of secret fields', () => {
  for (const [text, secret] of [
    ['{"password": "hunter2-canary", "x": 1', 'hunter2-canary'],
    ['{"phone_code": 9876543', '9876543'],
    ['{"api_hash" : "0123456789abcdef0123456789abcdef"', '0123456789abcdef'],
    ['{"phone_code": "54321', '54321'],
  ] as const) {
    const out = redactJsonText(text);
    assert.ok(!out.includes(secret), `${text} → ${out}`);
    assert.match(out, /"\[redacted\]"/);
  }
});

test('redactPanelState: query text and history redacted, other fields kept, input not mutated', () => {
  const state: PanelState = {
    version: 1,
    tab: 'query',
    traceFilter: { text: 'auth' },
    query: { method: 'auth.checkPassword', json: '{"password":"pw-canary-1"}', dcId: 2 },
    history: [{ query: { _: 'auth.signIn', phone_code: '11111', phone_number: '999' }, time: 5, ok: false }],
  };
  const copy = JSON.parse(JSON.stringify(state)) as typeof state;
  const out = redactPanelState(state);
  assert.deepEqual(state, copy, 'not mutated');
  const text = JSON.stringify(out);
  assert.ok(!text.includes('pw-canary-1') && !text.includes('11111'), text);
  assert.deepEqual(out.traceFilter, state.traceFilter);
  assert.equal(out.query?.dcId, 2);
  assert.equal(out.history?.[0]?.time, 5);
  assert.equal((out.history?.[0]?.query as { phone_number: string } | undefined)?.phone_number, '999');
});
