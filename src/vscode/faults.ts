// Faults on demand against the embedded sandbox: what the panel's Faults section and the "Sandbox Fault…" command
// run. Each request goes through the sandbox's control-action table (the same one `dclab sandbox ctl` and the
// control channel use), so names, argument checks and messages match everywhere. No `vscode` import (tested in
// test/vscode/faults.test.ts).
import { IPC_FAULT_SPECS, type IpcFaultField, type IpcFaultRequest, type IpcFaultResult, type IpcFaultsState, type IpcSandboxStatus } from '../ipc';
import { runControlAction, type Sandbox } from '../sandbox';
import type { LabSession } from './lab';

/** Whether faults can run now, and why not. */
export function faultsState(lab: LabSession): IpcFaultsState {
  const sb = lab.sandbox;
  const dcs = sb ? sb.status().dcs.map((d) => d.id) : [];
  const cdnDc = sb?.status().cdn?.id;
  const base = { dcs, ...(cdnDc !== undefined ? { cdnDc } : {}) };
  if (lab.profileName !== 'sandbox') return { available: false, reason: `the active profile is ${lab.profileName}, not the sandbox`, ...base };
  if (!sb) return { available: false, reason: 'the sandbox is not running (DC Lab: Start Sandbox)', ...base };
  return { available: true, ...base };
}

/** The running embedded sandbox of the sandbox profile, or an error that says why there is none. */
export function faultSandbox(lab: LabSession): Sandbox {
  const st = faultsState(lab);
  if (!st.available || !lab.sandbox) throw new Error(st.reason ?? 'the sandbox is not running');
  return lab.sandbox;
}

function dcRangeText(dcs: number[]): string {
  const sorted = [...dcs].sort((a, b) => a - b);
  const contiguous = sorted.every((d, i) => i === 0 || d === sorted[i - 1]! + 1);
  return contiguous && sorted.length > 1 ? `${sorted[0]}..${sorted[sorted.length - 1]}` : sorted.join(', ');
}

/** Checks the request's DC against the sandbox's own DCs, with a message the user can act on. */
function checkDc(sb: Sandbox, req: IpcFaultRequest): void {
  if (!('dcId' in req) || req.dcId === undefined) return;
  const field = (IPC_FAULT_SPECS[req.action].fields as IpcFaultField[]).find((f) => f.name === 'dcId');
  const st = sb.status();
  const main = st.dcs.map((d) => d.id);
  const cdn = field?.cdn && st.cdn ? st.cdn.id : undefined;
  if (main.includes(req.dcId) || req.dcId === cdn) return;
  throw new RangeError(`${req.action}: DC must be ${dcRangeText(main)}${cdn !== undefined ? ` or ${cdn} (the CDN DC)` : ''}, got ${req.dcId}`);
}

/** The control table's argument names: `dc` where the IPC says `dcId`. */
function controlArgs(req: IpcFaultRequest): Record<string, number | string> {
  const args: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(req)) {
    if (k === 'action' || v === undefined) continue;
    args[k === 'dcId' ? 'dc' : k] = v as number | string;
  }
  return args;
}

function statusLine(st: IpcSandboxStatus): string {
  const conns = st.dcs.map((d) => `DC${d.id} ${d.connections}`).join(', ');
  const f = st.faults;
  const pending = f.rpcErrors.length + f.floods.length + f.transportErrors.length + f.dropAfterBytes.length;
  return `live connections: ${conns}; ${pending} pending fault rule(s)`;
}

/** Runs one fault on a sandbox (no profile check: the caller decides that the sandbox is the one to hit). */
export async function runFaultOn(sb: Sandbox, req: IpcFaultRequest): Promise<IpcFaultResult> {
  checkDc(sb, req);
  const r = await runControlAction(sb, req.action, controlArgs(req));
  const status: IpcSandboxStatus = sb.status();
  return { action: req.action, message: req.action === 'status' ? statusLine(status) : r.message, status };
}

/** sandbox/fault and "DC Lab: Sandbox Fault…": runs it on the lab's embedded sandbox, notes it in the trace. */
export async function runSandboxFault(lab: LabSession, req: IpcFaultRequest): Promise<IpcFaultResult> {
  const sb = faultSandbox(lab);
  const result = await runFaultOn(sb, req);
  if (req.action !== 'status') {
    // in the trace, so the reconnects and errors that follow read as its consequences
    lab.trace.add({
      kind: 'state',
      name: `sandbox fault: ${req.action}`,
      note: result.message,
      ...('dcId' in req && req.dcId !== undefined ? { dcId: req.dcId } : {}),
    });
    lab.log.info(`sandbox fault: ${result.message}`);
  }
  lab.changed();
  return result;
}
