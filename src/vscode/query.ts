// The panel's query/run answer: the lab runs the call (routedCall: the DC that answered comes from the router);
// a failure is worded by describeCallError — validation errors name the field and the expected type, RPC and
// lifecycle errors keep their code and DC. No `vscode` import (tested in test/vscode/lab.test.ts).
import type { IpcQueryResult, JsonObject, JsonValue } from '../ipc';
import { CallFailure, describeCallError } from '../lifecycle';
import type { LabSession } from './lab';

export async function runPanelQuery(lab: LabSession, query: JsonObject, dcId: number | undefined): Promise<IpcQueryResult> {
  const { _: method, ...params } = query;
  const t0 = Date.now();
  try {
    const r = await lab.runQuery(String(method), params, dcId);
    return { ok: true, result: r.result as JsonValue, dcId: r.answeredDc, durationMs: r.ms, traceId: r.traceId };
  } catch (e) {
    const failure = e instanceof CallFailure ? e : undefined;
    const { code, message, dcId: errorDc, path, expected } = describeCallError(e, String(method));
    if (code === 'VALIDATION') return { ok: false, code, message, ...(path !== undefined ? { path } : {}), ...(expected !== undefined ? { expected } : {}) };
    return {
      ok: false,
      code,
      message,
      ...(errorDc !== undefined ? { dcId: errorDc } : {}),
      durationMs: failure?.ms ?? Date.now() - t0,
      ...(failure?.traceId !== undefined ? { traceId: failure.traceId } : {}),
    };
  }
}
