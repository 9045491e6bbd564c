// `dclab sandbox ctl --sandbox-info F ACTION [ARGS]`: one action on a running sandbox through its control channel
// (src/sandbox/control.ts). Arguments are parsed against the action table the server uses; exit 0 with a one-line
// confirmation, 1 when the sandbox cannot be reached, refuses the token or rejects a value, 2 for usage errors.
import { resolve } from 'node:path';
import { actionSynopsis, checkArgs, CONTROL_ACTIONS, controlAction, DEFAULT_RESTART_DOWN_MS, type ControlAction, type ControlArgs } from '../sandbox/control';
import { callControl, controlEndpointOf } from '../sandbox/control-client';
import { flagBool, flagString, parseArgs, UsageError, type FlagSpecs } from './args';
import { readSandboxInfo } from './context';
import type { CliIo } from './io';

const COMMAND = 'sandbox ctl';

const CTL_FLAGS: FlagSpecs = {
  '--sandbox-info': { kind: 'string', value: 'the info file written by `dclab sandbox --info-file F`' },
  '--json': { kind: 'boolean' },
};

/** Every flag any action takes (all integers); which action takes which is checked after parsing. */
const ACTION_FLAGS: FlagSpecs = Object.fromEntries(
  CONTROL_ACTIONS.flatMap((a) => a.params.filter((p) => p.flag).map((p) => [p.flag!, { kind: p.kind === 'int' ? 'int' : 'string', value: p.what }] as const)),
);

export const CTL_USAGE = `usage: dclab sandbox ctl --sandbox-info F ACTION [ARGS] [--json]
  Drives a running \`dclab sandbox --info-file F\` through its control channel (127.0.0.1, the token from F).
  Prints one confirmation line (--json: the whole answer as JSON); exit 0 done, 1 failed (sandbox unreachable,
  token refused, unknown DC, bad value), 2 usage error.

Actions:
${CONTROL_ACTIONS.map((a) => `  ${actionSynopsis(a)}\n      ${a.summary}`).join('\n')}

Examples:
  dclab sandbox ctl --sandbox-info /tmp/sb.json restart-dc 2 --down-ms 1000
  dclab sandbox ctl --sandbox-info /tmp/sb.json transport-error 404 --dc 4 --count 2
  dclab sandbox ctl --sandbox-info /tmp/sb.json flood auth.sendCode 30
  dclab sandbox ctl --sandbox-info /tmp/sb.json status`;

/** Builds the JSON arguments of `action` from the positionals and flags of the command line. */
function actionArgs(action: ControlAction, positionals: string[], flags: Map<string, unknown>): ControlArgs {
  const wanted = action.params.filter((p) => !p.flag);
  if (positionals.length !== wanted.length) {
    const missing = wanted.slice(positionals.length).map((p) => `${p.label ?? p.name.toUpperCase()} (${p.what})`);
    throw new UsageError(
      missing.length ? `${action.name} needs ${missing.join(' and ')}` : `${action.name}: unexpected argument ${JSON.stringify(positionals[wanted.length])}`,
      COMMAND,
    );
  }
  const out: ControlArgs = {};
  wanted.forEach((p, i) => {
    const raw = positionals[i]!;
    if (p.kind === 'int') {
      if (!/^-?\d+$/.test(raw)) throw new UsageError(`${action.name}: ${p.label ?? p.name.toUpperCase()} needs ${p.what} (an integer), got "${raw}"`, COMMAND);
      out[p.name] = Number(raw);
    } else out[p.name] = raw;
  });
  for (const [flag, v] of flags) {
    if (flag in CTL_FLAGS || flag === '--help') continue;
    const p = action.params.find((x) => x.flag === flag);
    if (!p) throw new UsageError(`${flag} does not go with ${action.name} (usage: ${actionSynopsis(action)})`, COMMAND);
    out[p.name] = v as number | string;
  }
  return out;
}

export async function runSandboxCtl(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const parsed = parseArgs(COMMAND, argv, { ...CTL_FLAGS, ...ACTION_FLAGS });
    if (parsed.flags.get('--help') === true) {
      io.out(`${CTL_USAGE}\n`);
      return 0;
    }
    const [name, ...rest] = parsed.positionals;
    if (!name) throw new UsageError('which action? (see dclab sandbox ctl --help)', COMMAND);
    const action = controlAction(name);
    if (!action) throw new UsageError(`unknown action "${name}" (actions: ${CONTROL_ACTIONS.map((a) => a.name).join(', ')})`, COMMAND);
    const infoFile = flagString(parsed, '--sandbox-info');
    if (!infoFile) throw new UsageError('--sandbox-info F is required (the info file of the running sandbox)', COMMAND);
    const args = checkArgs(action, actionArgs(action, rest, parsed.flags));
    const file = resolve(infoFile);
    const endpoint = controlEndpointOf(readSandboxInfo(file).info, file);
    const downMs = typeof args.downMs === 'number' ? args.downMs : action.name === 'restart-dc' ? DEFAULT_RESTART_DOWN_MS : 0;
    const reply = await callControl(endpoint, action.name, args, { timeoutMs: 30_000 + downMs });
    if (flagBool(parsed, '--json')) io.out(`${JSON.stringify(reply)}\n`);
    else if (action.name === 'status') io.out(`${JSON.stringify(reply.data, null, 2)}\n`);
    else io.out(`${reply.message}\n`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`dclab ${COMMAND}: ${e.message}\n(see dclab ${COMMAND} --help)\n`);
      return 2;
    }
    // unreachable sandbox, refused token, a value the sandbox rejects (ControlError, ControlArgumentError), a bad info file
    io.err(`dclab ${COMMAND}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
