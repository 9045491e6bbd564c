// The command-line proof that the client survives real-DC trouble, run against `dclab sandbox --salt-period 5`
// with faults driven from outside through `dclab sandbox ctl` (nothing in-process). Each scenario prints one line
// and a final JSON summary; exit 1 when any scenario fails. Needs `npm run build` first (npm run proof:fidelity
// does it).
//
//   1. a 64 MiB download while drop-connections runs every 2 s → byte-identical (sha256 of the seeded file)
//   2. dclab call while its DC restarts → answered, exit 0
//   3. move-dc of the home DC → the next dclab call succeeds (sandbox profile, and a custom profile that only
//      knows the old address: found again through help.getConfig on another DC)
//   4. transport-error 404 --count 1 → still logged in with the same auth_key_id (dclab status --json)
//   5. messages.sendMessage in flight across drop-connections → exactly one message
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(process.cwd(), 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'dclab-proof-'));
const info = join(dir, 'sb.json');
const data = join(dir, 'cli');
const results = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function dclab(args, opts = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000, input: opts.input });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

function dclabAsync(args) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return { child, done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err }))) };
}

const common = ['--sandbox-info', info, '--data-dir', data];
const ctl = (...args) => {
  const r = dclab(['sandbox', 'ctl', '--sandbox-info', info, ...args]);
  if (r.code !== 0) throw new Error(`ctl ${args.join(' ')}: exit ${r.code}: ${r.err || r.out}`);
  return r.out.trim();
};

function record(name, ok, detail) {
  results.push({ name, ok, ...detail });
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail.note ? ` — ${detail.note}` : ''}\n`);
}

function sha256File(path) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

function status() {
  const r = dclab(['status', '--json', ...common]);
  return JSON.parse(r.out);
}

const sandbox = spawn(
  process.execPath,
  [CLI, 'sandbox', '--base-port', '0', '--no-ipv6', '--salt-period', '5', '--info-file', info, '--data-dir', join(dir, 'sb')],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
let sandboxLog = '';
sandbox.stdout.on('data', (d) => (sandboxLog += d));
sandbox.stderr.on('data', (d) => (sandboxLog += d));
try {
  const t0 = Date.now();
  while (!sandboxLog.includes('sandbox ready')) {
    if (Date.now() - t0 > 30_000) throw new Error(`the sandbox did not start:\n${sandboxLog}`);
    await sleep(50);
  }
  const login = dclab(['login', '--phone', '9996621234', ...common]);
  if (login.code !== 0) throw new Error(`login failed: ${login.err}`);

  // 1. download under connection drops
  {
    const big = JSON.parse(readFileSync(info, 'utf8')).files.find((f) => f.key === 'big-64m');
    const out = join(dir, 'big.bin');
    // 600 ms per frame on the file's DC: the download lasts long enough for several drops (loopback is too fast)
    ctl('latency', String(big.dcId), '600');
    const started = Date.now();
    const dl = dclabAsync(['download', '--dc', String(big.dcId), '--location', JSON.stringify(big.location), '--out', out, ...common]);
    let drops = 0;
    let finished = false;
    void dl.done.then(() => (finished = true));
    while (!finished) {
      await sleep(2000);
      if (finished) break;
      ctl('drop-connections');
      drops++;
    }
    const r = await dl.done;
    ctl('latency', String(big.dcId), '0');
    const sha = r.code === 0 ? await sha256File(out) : '';
    record('download of the 64 MiB seeded file while drop-connections runs every 2 s', r.code === 0 && sha === big.sha256 && drops >= 2, {
      note: `${drops} drops, ${((Date.now() - started) / 1000).toFixed(1)} s, sha256 ${sha === big.sha256 ? 'identical' : `differs (exit ${r.code}: ${r.err.trim().split('\n').pop()})`}`,
      drops,
    });
  }

  // 2. a call during restart-dc of its DC
  {
    ctl('latency', '2', '600');
    const call = dclabAsync(['call', 'users.getUsers', '{"id":[{"_":"inputUserSelf"}]}', '--json', ...common]);
    await sleep(300);
    ctl('restart-dc', '2', '--down-ms', '800');
    ctl('latency', '2', '0');
    const r = await call.done;
    let users = [];
    try {
      users = JSON.parse(r.out);
    } catch {
      // reported below
    }
    record('dclab call during restart-dc of its DC answers once', r.code === 0 && Array.isArray(users) && users.length === 1, {
      note: r.code === 0 ? `${users.length} user, exit 0` : `exit ${r.code}: ${r.err.trim().split('\n').pop()}`,
    });
  }

  // 4. one −404 on a new connection keeps the key (before the move, so the key ids compare on one DC)
  {
    const before = status();
    const keyBefore = before.dcs?.find((d) => d.dcId === before.homeDc)?.authKeyId;
    ctl('transport-error', '404', '--dc', String(before.homeDc), '--count', '1');
    const r = dclab(['call', 'help.getNearestDc', '--json', ...common]);
    const after = status();
    const keyAfter = after.dcs?.find((d) => d.dcId === after.homeDc)?.authKeyId;
    const ok =
      r.code === 0 && keyBefore !== undefined && keyBefore === keyAfter && after.userId === before.userId && after.authorizedDcs?.includes(after.homeDc);
    record('transport-error 404 --count 1: still logged in with the same key', ok, {
      note: `auth_key_id ${keyBefore} → ${keyAfter}, call exit ${r.code}${r.code ? `: ${r.err.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
    });
  }

  // 5. sendMessage in flight across drop-connections
  {
    const text = `proof ${Date.now()}`;
    const randomId = String(BigInt.asIntN(64, BigInt(Date.now()) * 1000003n));
    ctl('latency', '2', '800');
    const send = dclabAsync([
      'call',
      'messages.sendMessage',
      JSON.stringify({ peer: { _: 'inputPeerSelf' }, message: text, random_id: randomId }),
      '--json',
      ...common,
    ]);
    await sleep(400);
    ctl('drop-connections');
    const r = await send.done;
    ctl('latency', '2', '0');
    const h = dclab([
      'call',
      'messages.getHistory',
      JSON.stringify({ peer: { _: 'inputPeerSelf' }, offset_id: 0, offset_date: 0, add_offset: 0, limit: 100, max_id: 0, min_id: 0, hash: '0' }),
      '--json',
      ...common,
    ]);
    let count = -1;
    try {
      count = JSON.parse(h.out).messages.filter((m) => m.message === text).length;
    } catch {
      // reported below
    }
    record('messages.sendMessage in flight across drop-connections creates exactly one message', r.code === 0 && count === 1, {
      note: `send exit ${r.code}, ${count} message(s) with the text${r.code ? `: ${r.err.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
    });
  }

  // 3. the home DC moves
  {
    const st = status();
    const home = st.homeDc;
    const oldPort = JSON.parse(readFileSync(info, 'utf8')).dcs.find((d) => d.id === home).port;
    // a custom profile that knows only the home DC's current (soon old) address, logged in and with the config read
    const pem = join(dir, 'sandbox.pem');
    writeFileSync(pem, JSON.parse(readFileSync(info, 'utf8')).rsa.pem);
    const customData = join(dir, 'custom');
    const custom = ['--profile', 'custom:moved', '--dc-address', `${home}=127.0.0.1:${oldPort}`, '--rsa-pem', pem, '--data-dir', customData];
    const cl = dclab(['login', '--phone', '9996621234', '--code', '22222', '--api-id', '1', '--api-hash-stdin', ...custom], {
      input: '0123456789abcdef0123456789abcdef\n',
    });
    if (cl.code !== 0) throw new Error(`custom login failed: ${cl.err}`);
    const customCfg = dclab(['call', 'help.getConfig', '--json', ...custom.slice(0, 2), '--data-dir', customData]);
    if (customCfg.code !== 0) throw new Error(`custom getConfig failed: ${customCfg.err}`);
    ctl('move-dc', String(home));
    const newPort = JSON.parse(readFileSync(info, 'utf8')).dcs.find((d) => d.id === home).port;
    const r = dclab(['call', 'users.getUsers', '{"id":[{"_":"inputUserSelf"}]}', '--json', ...common]);
    const after = status();
    record('after move-dc of the home DC the next dclab call succeeds (sandbox profile)', r.code === 0 && after.userId === st.userId, {
      note: `port ${oldPort} → ${newPort}, exit ${r.code}`,
    });
    const rc = dclab([
      'call',
      'users.getUsers',
      '{"id":[{"_":"inputUserSelf"}]}',
      '--json',
      '--verbose',
      '--profile',
      'custom:moved',
      '--data-dir',
      customData,
    ]);
    const refreshed = /config refresh|dc_options changed/.test(rc.err);
    record('after move-dc a custom profile listing only the old address finds the DC through help.getConfig on another DC', rc.code === 0, {
      note: `exit ${rc.code}${refreshed ? ', config read again' : ''}${rc.code === 0 ? '' : `: ${rc.err.trim().split('\n').pop()}`}`,
    });
  }
} catch (e) {
  record('setup', false, { note: e instanceof Error ? e.message : String(e) });
} finally {
  sandbox.kill('SIGINT');
  await new Promise((r) => sandbox.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
const passed = results.filter((r) => r.ok).length;
process.stdout.write(`${JSON.stringify({ proof: 'fidelity', passed, total: results.length })}\n`);
process.exit(passed === results.length ? 0 : 1);
