// The panel's query/run answer: the lab runs the call; validation errors name the field and the expected type,
// RPC and lifecycle errors keep their code. No `vscode` import (tested in test/vscode/lab.test.ts).
import type { IpcQueryResult, JsonObject, JsonValue } from '../ipc';
import { LifecycleError } from '../lifecycle';
import { RpcError } from '../mtproto/errors';
import { TlJsonError } from '../tl/json';
import type { LabSession } from './lab';

/** query/run: validation errors name the field and the expected type; RPC and lifecycle errors keep their code. */
export async function runPanelQuery(lab: LabSession, query: JsonObject, dcId: number | undefined): Promise<IpcQueryResult> {
  const { _: method, ...params } = query;
  const t0 = Date.now();
  try {
    const r = await lab.runQuery(String(method), params, dcId);
    return { ok: true, result: r.result as JsonValue, dcId: dcId ?? lab.status()?.homeDc ?? 0, durationMs: r.ms, ...(r.traceId ? { traceId: r.traceId } : {}) };
  } catch (e) {
    const durationMs = Date.now() - t0;
    if (e instanceof TlJsonError) return { ok: false, code: 'VALIDATION', message: e.message, path: e.path, expected: e.expected };
    if (e instanceof RpcError) return { ok: false, code: e.errorMessage, message: `${e.code} ${e.errorMessage}`, dcId: e.dcId, durationMs };
    if (e instanceof LifecycleError) return { ok: false, code: e.code, message: e.message, ...(e.dcId !== undefined ? { dcId: e.dcId } : {}), durationMs };
    return { ok: false, code: 'ERROR', message: e instanceof Error ? e.message : String(e), durationMs };
  }
}
