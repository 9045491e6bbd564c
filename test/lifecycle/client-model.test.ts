// Model-based tests of the client machine: xstate/graph's shortest paths over the machine (async steps appear as
// their done/error events with the outputs that choose a branch), each path then EXECUTED against the real sandbox:
// user events are sent to the real actor, done/error events are produced by the real runtime, and the scenario (which
// phone, which code or password, a stored login, a dead first DC, a revoked key) is derived from the path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { getShortestPaths } from 'xstate/graph';
import type { EventObject } from 'xstate';
import { clientMachine, type ClientEvent } from '../../src/lifecycle/client-machine';
import { memoryLifecycleStore, type LifecycleStore } from '../../src/lifecycle/store';
import { LifecycleError } from '../../src/lifecycle/errors';
import { profileFromSandboxInfo } from '../../src/dc/profile';
import type { ClientRuntime } from '../../src/lifecycle/runtime';
import { startLab, SANDBOX_PASSWORD, type Lab } from './helpers';

type ModelEvent = ClientEvent | (EventObject & { output?: unknown });

const done = (id: string, output: unknown): ModelEvent => ({ type: `xstate.done.actor.${id}`, output }) as ModelEvent;
const fail = (id: string): ModelEvent => ({ type: `xstate.error.actor.${id}`, error: new Error('model') }) as ModelEvent;

const MODEL_EVENTS: ModelEvent[] = [
  { type: 'START' },
  done('connect', { homeDc: 2, authorized: false }),
  done('connect', { homeDc: 2, authorized: true }),
  fail('connect'),
  done('fetchConfig', { thisDc: 2, date: 0, testMode: false, endpoints: [] }),
  { type: 'LOGIN', phone: 'model' },
  done('sendCode', { phoneCodeHash: 'h', homeDc: 2, codeType: 'auth.sentCodeTypeApp' }),
  fail('sendCode'),
  { type: 'CODE', code: 'model' },
  done('signIn', { kind: 'authorized', user: { _: 'user' } }),
  done('signIn', { kind: 'signUpRequired' }),
  done('signIn', { kind: 'passwordNeeded' }),
  done('signIn', { kind: 'codeInvalid', error: 'PHONE_CODE_INVALID' }),
  { type: 'PASSWORD', password: 'model' },
  done('checkPassword', { kind: 'authorized', user: { _: 'user' } }),
  done('checkPassword', { kind: 'passwordInvalid', error: 'PASSWORD_HASH_INVALID' }),
  { type: 'SIGN_UP', firstName: 'Model' },
  done('signUp', { _: 'user' }),
  { type: 'LOG_OUT' },
  done('logOut', undefined),
  { type: 'SESSION_REVOKED', reason: 'model' },
  { type: 'CANCEL' },
  { type: 'STOP' },
];

function stateName(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function outputKind(e: ModelEvent): string | undefined {
  const o = (e as { output?: { kind?: string; authorized?: boolean } }).output;
  return o?.kind ?? (o?.authorized === true ? 'resumed' : undefined);
}

function describePath(steps: { event: ModelEvent }[]): string {
  return steps
    .slice(1)
    .map((s) => {
      const k = outputKind(s.event);
      const t = s.event.type.replace('xstate.done.actor.', 'done:').replace('xstate.error.actor.', 'error:');
      return k ? `${t}(${k})` : t;
    })
    .join(' > ');
}

const fakeRuntime = { homeDc: 2, pool: {} } as unknown as ClientRuntime;
const paths = getShortestPaths(clientMachine, {
  input: { runtime: fakeRuntime },
  events: MODEL_EVENTS as ClientEvent[],
  serializeState: (s) => `${stateName(s.value)}${s.context.resumed ? '+resumed' : ''}`,
});

let lab: Lab;
let phoneSeq = 0;
before(async () => {
  lab = await startLab();
});
after(() => lab.stop());

test('the model covers every state of the client machine', () => {
  const reached = new Set(paths.map((p) => stateName(p.state.value)));
  const all = Object.keys(clientMachine.root.states);
  assert.deepEqual([...reached].sort(), [...all].sort());
  assert.ok(paths.length >= all.length);
});

/** A stored login on `store` (made by another client instance) for resumed paths. */
async function storedLogin(store: LifecycleStore, phone: string): Promise<void> {
  const { client } = lab.client({ store });
  await client.start();
  await client.login({ phone, code: async () => lab.code(phone) });
  await client.stop();
}

for (const path of paths) {
  const target = `${stateName(path.state.value)}${path.state.context.resumed ? '+resumed' : ''}`;
  const steps = path.steps as { event: ModelEvent; state: typeof path.state }[];
  test(`path to ${target}: ${describePath(steps) || '(initial)'}`, async () => {
    const kinds = steps.map((s) => outputKind(s.event));
    const types = steps.map((s) => s.event.type);
    const n = ++phoneSeq;
    // scenario from the path
    let phone: string;
    if (kinds.includes('signUpRequired')) phone = `1777${String(Date.now()).slice(-5)}${String(n).padStart(2, '0')}`;
    else if (kinds.includes('passwordNeeded')) phone = `99966${(n % 5) + 1}9234`;
    else phone = `99966${(n % 5) + 1}1234`;
    if (types.includes('xstate.error.actor.sendCode')) phone = 'not-a-phone';
    const store = memoryLifecycleStore();
    // a stored login (another client instance, same store) with a plain seeded number; the path may log in again later
    const storedPhone = `99966${((n + 2) % 5) + 1}1234`;
    if (kinds.includes('resumed')) await storedLogin(store, storedPhone);
    const deadFirstDc = types.includes('xstate.error.actor.connect');
    const profile = profileFromSandboxInfo(lab.sandbox.info);
    const { client } = lab.client({
      store,
      ...(deadFirstDc ? { profile: { ...profile, dcs: profile.dcs.map((d) => ({ ...d, port: 1 })) }, connectTimeoutMs: 2000 } : {}),
    });
    const actor = client.actor;
    const seen: string[] = [];
    actor.subscribe((s) => {
      const v = stateName(s.value);
      if (seen[seen.length - 1] !== v) seen.push(v);
    });
    actor.start();
    const reach = async (want: string, from: number): Promise<void> => {
      const t0 = Date.now();
      while (!seen.slice(from).includes(want)) {
        if (Date.now() - t0 > 15_000) assert.fail(`never reached ${want}; states: ${seen.join(' > ')}; error: ${actor.getSnapshot().context.error ?? '-'}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    for (let i = 0; i < steps.length; i++) {
      const { event, state } = steps[i]!;
      const want = stateName(state.value);
      const mark = Math.max(0, seen.length - 1);
      const nextKind = kinds[i + 1];
      switch (event.type) {
        case 'START':
        case 'LOG_OUT':
        case 'CANCEL':
        case 'STOP':
          actor.send({ type: event.type });
          break;
        case 'LOGIN':
          actor.send({ type: 'LOGIN', phone });
          break;
        case 'CODE':
          actor.send({ type: 'CODE', code: nextKind === 'codeInvalid' ? '00000' : lab.code(phone) });
          break;
        case 'PASSWORD':
          actor.send({ type: 'PASSWORD', password: nextKind === 'passwordInvalid' ? 'not-the-password' : SANDBOX_PASSWORD });
          break;
        case 'SIGN_UP':
          actor.send({ type: 'SIGN_UP', firstName: 'Model', lastName: `Path ${n}` });
          break;
        case 'SESSION_REVOKED': {
          // the real trigger: the user's sessions on the home DC are terminated (sandbox.revokeAuthorizations), the
          // next call answers AUTH_KEY_UNREGISTERED
          const home = client.runtime.homeDc;
          const who = types.slice(0, i).includes('LOGIN') ? phone : storedPhone;
          assert.ok(lab.sandbox.revokeAuthorizations(who, home) >= 1, `an authorization of +${who} on DC${home}`);
          await assert.rejects(
            client.call({ _: 'users.getUsers', id: [{ _: 'inputUserSelf' }] }),
            (e: unknown) => e instanceof LifecycleError && e.code === 'LOGGED_OUT',
          );
          break;
        }
        default:
          break; // xstate.init and done/error events: the real runtime produces them
      }
      await reach(want, mark);
    }
    // end state of the path, and what it means outside the machine
    const st = client.status();
    const end = stateName(path.state.value);
    if (end === 'authorized') {
      assert.equal(st.state, 'authorized');
      assert.ok(st.userId, 'a user id');
      assert.ok(st.authorizedDcs.includes(st.homeDc));
      assert.equal(await store.getHomeDc(), st.homeDc);
      if (types.includes('LOGIN') && phone.startsWith('99966')) assert.equal(st.homeDc, Number(phone[5]), 'home is the phone DC');
    }
    if (end === 'loggedOut') {
      assert.deepEqual(st.authorizedDcs, []);
      assert.ok(st.loggedOutReason);
      assert.deepEqual(await store.getAuthorizedDcs(), []);
    }
    if (end === 'awaitingCode' && kinds.includes('codeInvalid')) assert.equal(actor.getSnapshot().context.error, 'PHONE_CODE_INVALID');
    if (end === 'awaitingPassword' && kinds.includes('passwordInvalid')) assert.equal(actor.getSnapshot().context.error, 'PASSWORD_HASH_INVALID');
    if (end === 'unauthorized' && types.includes('xstate.error.actor.sendCode')) assert.match(actor.getSnapshot().context.error ?? '', /PHONE_NUMBER_INVALID/);
    if (end === 'failed') assert.match(actor.getSnapshot().context.error ?? '', /DC 2/);
    if (end === 'stopped') assert.equal(actor.getSnapshot().status, 'done');
    await client.stop();
  });
}
