// npm run hostile [-- MODE…] [--json]: runs our client against every mode of the hostile DC (src/sandbox/hostile)
// and prints one row per mode (mode, rejected, the client's error, ms) and the summary {modes, rejected}.
// Exit 1 unless every mode was rejected (and the honest control passed). Run through tsx (package.json).
import { runHonestControl, runHostileModes } from '../src/sandbox/hostile/run.ts';
import { HOSTILE_MODES, isHostileModeName } from '../src/sandbox/hostile/modes.ts';
import { generateRsaKeyPair } from '../src/crypto/rsa.ts';
import { DcPool } from '../src/dc/pool.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const wanted = args.filter((a) => !a.startsWith('--'));
const unknown = wanted.filter((m) => !isHostileModeName(m));
if (unknown.length) {
  console.error(`unknown mode(s): ${unknown.join(', ')}\nmodes: ${HOSTILE_MODES.map((m) => m.name).join(' ')}`);
  process.exit(2);
}
const modes = wanted.length ? wanted : HOSTILE_MODES.map((m) => m.name);

// src/sandbox may not import src/dc: the −404 modes get their DcPool from here
const pool = (t) =>
  new DcPool({
    profile: {
      name: 'custom',
      dcs: [{ id: t.dcId, host: t.host, port: t.port }],
      firstDc: t.dcId,
      rsaKeys: [t.rsaKey],
      testMode: false,
      apiId: 1,
      apiHash: 'hostile',
      transport: 'intermediate',
    },
    keys: t.keys,
    onEvent: t.onEvent,
    onWire: t.onWire,
    callTimeoutMs: t.callTimeoutMs,
    handshakeTimeoutMs: t.handshakeTimeoutMs,
    maxReconnectAttempts: 3,
  });

const opts = { rsa: generateRsaKeyPair(), pool };
const control = await runHonestControl(opts);
const cell = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));
if (!json) {
  console.log(`control (honest DC): ${control.ok ? 'key made, calls answered' : `FAILED: ${control.error}`} (${control.ms} ms)\n`);
  console.log(`${cell('mode', 28)} ${cell('check', 22)} ${cell('rejected', 8)} ${'ms'.padStart(6)}  error`);
}
const outcomes = await runHostileModes(modes, opts, (o) => {
  if (json) return;
  const detail = o.rejected ? o.error : `${o.error} — ${o.why.join('; ')}`;
  console.log(`${cell(o.mode, 28)} ${cell(o.check, 22)} ${cell(o.rejected ? 'yes' : 'NO', 8)} ${String(o.ms).padStart(6)}  ${detail}`);
});
const summary = { modes: outcomes.length, rejected: outcomes.filter((o) => o.rejected).length };
if (json) {
  const rows = outcomes.map((o) => ({
    mode: o.mode,
    group: o.group,
    check: o.check,
    rejected: o.rejected,
    named: o.named ?? null,
    error: o.error,
    ms: o.ms,
    why: o.why,
  }));
  console.log(JSON.stringify({ control: { ok: control.ok, ms: control.ms, error: control.error ?? null }, rows, summary }, null, 2));
} else console.log(`\n${JSON.stringify(summary)}`);
process.exit(control.ok && summary.rejected === summary.modes ? 0 : 1);
