// The palette commands. Each one drives the LabSession; long work runs inside withProgress (cancellable where a
// cancel means something: connecting, queries, downloads, FLOOD_WAIT countdowns). Nothing secret is logged: not
// codes, not passwords, not api_hash.
import * as vscode from 'vscode';
import { readFileSync } from 'node:fs';
import { listSavedMedia } from '../files';
import { IPC_FAULT_ACTIONS, IPC_FAULT_SPECS, faultFieldValue, faultRequestError, faultRequestFrom, type IpcFaultField, type IpcFaultRequest } from '../ipc';
import { describeCallError, formatHops, type CallAnswer } from '../lifecycle';
import { parseProfileName } from '../storage';
import { apiSchema } from '../tl/bundled';
import { formatTraceTimeline, type TraceEvent } from '../trace';
import type { DownloadManager, DownloadRequest } from './downloads';
import { faultsState, runSandboxFault } from './faults';
import type { LabSession } from './lab';
import { LabPanel } from './panel';
import type { ResultDocuments } from './result-documents';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  lab: LabSession;
  downloads: DownloadManager;
  log: vscode.LogOutputChannel;
  /** The `dclab-result:` documents (query and request-file results). */
  results: ResultDocuments;
}

function errText(e: unknown): string {
  return describeCallError(e).message;
}

function normalizePhone(raw: string): string | undefined {
  const s = raw.trim().replace(/[\s\-().+]/g, '');
  return /^\d{5,15}$/.test(s) ? s : undefined;
}

/** A command body with errors shown to the user and logged. */
export function guarded(deps: CommandDeps, name: string, fn: (...args: unknown[]) => Promise<unknown>): (...args: unknown[]) => Promise<unknown> {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (e) {
      const text = errText(e);
      deps.log.error(`${name}: ${text}`);
      void vscode.window.showErrorMessage(`DC Lab: ${text}`);
      return undefined;
    }
  };
}

/** The chain of the call whose root event is `traceId`, as one line (the client and session transitions left out). */
function callChainLine(lab: LabSession, traceId: number): string {
  const events = lab.trace.chainOf(traceId).filter((e: TraceEvent) => !(e.kind === 'state' && /^(client|DC\d+ session): /.test(e.name)));
  // the first line without its time/chain-id prefix ("+   0ms  chain #13: ")
  return (formatTraceTimeline(events, { details: false }).split('\n')[0] ?? '').replace(/^\+\s*\d+ms\s+chain #\d+:\s*/, '').trim();
}

export async function connectWithProgress(deps: CommandDeps): Promise<void> {
  const { lab } = deps;
  if (lab.client && !['stopped', 'failed'].includes(lab.client.status().state)) return;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `DC Lab: connecting (${lab.profileName})`, cancellable: true },
    async (progress, token) => {
      const onTrace = (e: TraceEvent): void => {
        if (e.kind === 'state' && e.name === 'connect') progress.report({ message: `connecting DC${e.dcId}…` });
        else if (e.kind === 'key') progress.report({ message: `${e.name} DC${e.dcId}${e.roundTrips ? ` (${e.roundTrips} round trips)` : ''}` });
        else if (e.kind === 'call' && e.parentId === undefined) progress.report({ message: `${e.name} @DC${e.dcId}` });
      };
      lab.on('trace', onTrace);
      const cancel = token.onCancellationRequested(() => void lab.disconnect());
      try {
        if (lab.profileName === 'sandbox' && !lab.sandbox) progress.report({ message: 'starting the embedded sandbox…' });
        const st = await lab.connect();
        if (token.isCancellationRequested) throw new Error('cancelled');
        deps.log.info(`connected to ${lab.profileName}: home DC${st.homeDc}, ${st.state}`);
      } finally {
        lab.off('trace', onTrace);
        cancel.dispose();
      }
    },
  );
}

/** A countdown notification while the lifecycle waits out a FLOOD_WAIT (cancel = disconnect, which ends the wait). */
export function floodWaitProgress(deps: CommandDeps): vscode.Disposable {
  let active: { resolve: () => void; report: (s: string) => void } | undefined;
  const onTrace = (e: TraceEvent): void => {
    if (e.kind !== 'flood-wait') return;
    const left = e.waitSeconds ?? 0;
    if (!active && left > 0) {
      void vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `DC Lab: ${e.name} on DC${e.dcId ?? '?'}`, cancellable: true },
        (progress, token) =>
          new Promise<void>((resolve) => {
            active = { resolve, report: (s) => progress.report({ message: s }) };
            active.report(`waiting ${left} s before repeating (cancel disconnects)`);
            token.onCancellationRequested(() => {
              deps.log.info('FLOOD_WAIT: cancelled by the user, disconnecting');
              void deps.lab.disconnect();
              active = undefined;
              resolve();
            });
          }),
      );
    } else if (active) {
      active.report(left > 0 ? `waiting ${left} s before repeating (cancel disconnects)` : 'repeating the call');
      if (left <= 0) {
        active.resolve();
        active = undefined;
      }
    }
  };
  deps.lab.on('trace', onTrace);
  return new vscode.Disposable(() => {
    deps.lab.off('trace', onTrace);
    active?.resolve();
  });
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { context, lab, downloads, log, results } = deps;
  const reg = (id: string, fn: (...args: unknown[]) => Promise<unknown>): vscode.Disposable => vscode.commands.registerCommand(id, guarded(deps, id, fn));

  return [
    reg('dclab.openPanel', async () => {
      LabPanel.show(context.extensionUri, lab, downloads, log);
    }),

    // a result document's "Show call in DC Lab trace" lens, the run notifications' "Show in Trace"
    reg('dclab.showTraceEvent', async (traceId?: unknown) => {
      const id = Number(traceId);
      if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`no trace event ${String(traceId)}`);
      LabPanel.show(context.extensionUri, lab, downloads, log).focusTraceEvent(id);
    }),

    reg('dclab.startSandbox', async () => {
      const sb = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'DC Lab: starting the sandbox' }, () =>
        lab.startSandbox(),
      );
      void vscode.window.showInformationMessage(`DC Lab: sandbox running — ${sb.info.dcs.map((d) => `DC${d.id} :${d.port}`).join(', ')}`);
    }),

    reg('dclab.stopSandbox', async () => {
      if (!lab.sandbox) {
        void vscode.window.showInformationMessage('DC Lab: the sandbox is not running');
        return;
      }
      await lab.stopSandbox();
      void vscode.window.showInformationMessage('DC Lab: sandbox stopped (its world — users, keys — is gone)');
    }),

    // a quick pick of the actions, then one prompt per argument (the panel's Faults tab offers the same)
    reg('dclab.sandboxFault', async (arg?: unknown) => {
      const state = faultsState(lab);
      if (!state.available) {
        const start = 'Start Sandbox';
        const choice = await vscode.window.showWarningMessage(
          `DC Lab: faults need the embedded sandbox: ${state.reason ?? 'it is not running'}`,
          ...(lab.profileName === 'sandbox' ? [start] : []),
        );
        if (choice === start) await vscode.commands.executeCommand('dclab.startSandbox');
        return undefined;
      }
      let req: IpcFaultRequest;
      if (arg !== undefined) {
        const error = faultRequestError(arg);
        if (error) throw new Error(`invalid fault request: ${error}`);
        req = arg as IpcFaultRequest;
      } else {
        const pick = await vscode.window.showQuickPick(
          IPC_FAULT_ACTIONS.map((a) => ({ label: IPC_FAULT_SPECS[a].label, description: a, detail: IPC_FAULT_SPECS[a].summary, action: a })),
          { title: 'DC Lab: Sandbox Fault', placeHolder: 'what the embedded sandbox should do now', matchOnDescription: true, ignoreFocusOut: true },
        );
        if (!pick) return undefined;
        const spec = IPC_FAULT_SPECS[pick.action];
        const texts: Record<string, string> = {};
        for (const f of spec.fields as IpcFaultField[]) {
          const title = `DC Lab: ${spec.label} — ${f.label}`;
          if (f.kind === 'dc') {
            const ids = [...state.dcs, ...(f.cdn && state.cdnDc !== undefined ? [state.cdnDc] : [])];
            const items = [...(f.optional ? [{ label: 'every DC', value: '' }] : []), ...ids.map((d) => ({ label: `DC${d}`, value: String(d) }))];
            const dc = await vscode.window.showQuickPick(items, { title, placeHolder: f.what, ignoreFocusOut: true });
            if (!dc) return undefined;
            texts[f.name] = dc.value;
          } else {
            const v = await vscode.window.showInputBox({
              title,
              prompt: `${f.what}${f.optional ? ' — optional, empty for the default' : ''}`,
              value: f.initial ?? '',
              ...(f.placeholder ? { placeHolder: f.placeholder } : {}),
              ignoreFocusOut: true,
              validateInput: (x) => faultFieldValue(f, x).error,
            });
            if (v === undefined) return undefined;
            texts[f.name] = v;
          }
        }
        const built = faultRequestFrom(pick.action, texts);
        if (!built.request) throw new Error(built.error ?? 'invalid fault');
        req = built.request;
      }
      const spec = IPC_FAULT_SPECS[req.action];
      const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `DC Lab: ${spec.label}` }, () => runSandboxFault(lab, req));
      if (req.action === 'status') {
        const doc = await vscode.workspace.openTextDocument(results.add('sandbox-status', `${JSON.stringify(r.status, null, 2)}\n`));
        await vscode.languages.setTextDocumentLanguage(doc, 'json');
        await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
      } else {
        void vscode.window.showInformationMessage(`DC Lab: ${r.message}`);
      }
      return r;
    }),

    reg('dclab.connect', async () => {
      await connectWithProgress(deps);
      const st = lab.status();
      if (st) void vscode.window.showInformationMessage(`DC Lab: connected to ${lab.profileName} — home DC${st.homeDc}, ${st.state}`);
    }),

    reg('dclab.disconnect', async () => {
      await lab.disconnect();
    }),

    reg('dclab.login', async (phoneArg?: unknown) => {
      const isSandbox = lab.profileName === 'sandbox';
      let phone = typeof phoneArg === 'string' ? normalizePhone(phoneArg) : undefined;
      if (!phone) {
        const raw = await vscode.window.showInputBox({
          title: 'DC Lab: Log In',
          prompt: isSandbox
            ? 'Phone number. Sandbox test numbers 99966XYYYY belong to DC X (code XXXXX); 99966X9YYY also has the 2FA password "sandbox".'
            : 'Phone number (international format)',
          placeHolder: isSandbox ? '9996641234' : '+15551234567',
          ignoreFocusOut: true,
          validateInput: (v) => (normalizePhone(v) ? undefined : 'digits, 5..15 (spaces, +, - allowed)'),
        });
        if (raw === undefined) return;
        phone = normalizePhone(raw)!;
      }
      await connectWithProgress(deps);
      const st0 = lab.status();
      if (st0?.state === 'authorized') {
        void vscode.window.showWarningMessage(`DC Lab: already logged in as user ${st0.userId} on DC${st0.homeDc}; log out first`);
        return;
      }
      const mark = lab.trace.lastId;
      const cancelled = (): never => {
        throw new Error('login cancelled');
      };
      const user = await lab.login({
        phone,
        code: async ({ suggested, error }) => {
          const v = await vscode.window.showInputBox({
            title: `DC Lab: login code for +${phone}`,
            prompt: `${error ? `${error} — try again. ` : ''}${suggested ? 'The embedded sandbox delivered a code (prefilled from its inbox).' : 'The code Telegram sent (app or SMS).'}`,
            ...(suggested ? { value: suggested } : {}),
            placeHolder: 'code',
            ignoreFocusOut: true,
            validateInput: (x) => (/^\d{3,10}$/.test(x.trim()) ? undefined : 'digits only'),
          });
          return v === undefined ? cancelled() : v.trim();
        },
        password: async ({ hint, error, suggested }) => {
          const v = await vscode.window.showInputBox({
            title: 'DC Lab: 2FA password',
            prompt: `${error ? `${error} — try again. ` : ''}${hint ? `Hint: ${hint}. ` : ''}${suggested ? 'Sandbox test number: the password is "sandbox".' : ''}`,
            password: true,
            ignoreFocusOut: true,
          });
          return v === undefined ? cancelled() : v;
        },
        signUp: async () => {
          const first = await vscode.window.showInputBox({
            title: `DC Lab: +${phone} is not registered — first name`,
            ignoreFocusOut: true,
            validateInput: (x) => (x.trim() ? undefined : 'required'),
          });
          if (first === undefined) return cancelled();
          const last = await vscode.window.showInputBox({ title: 'DC Lab: last name (optional)', ignoreFocusOut: true });
          return { firstName: first.trim(), ...(last?.trim() ? { lastName: last.trim() } : {}) };
        },
      });
      const st = lab.status();
      // the login's steps run inside the client machine, not through routedCall: its auth.sendCode is found in the trace
      const sendCode = lab.trace.since(mark).find((e: TraceEvent) => e.kind === 'call' && e.name === 'auth.sendCode' && e.parentId === undefined);
      const chain = sendCode ? callChainLine(lab, sendCode.id) : '';
      if (chain) log.info(`login chain: ${chain}`);
      const name = [user.first_name, user.last_name].filter((x) => typeof x === 'string' && x).join(' ');
      void vscode.window.showInformationMessage(
        `DC Lab: logged in as ${name || `user ${String(user.id)}`} — home DC${st?.homeDc ?? '?'}${chain.includes('MIGRATE') ? ` (${chain})` : ''}`,
      );
    }),

    reg('dclab.logOut', async () => {
      if (lab.status()?.state !== 'authorized') {
        void vscode.window.showInformationMessage('DC Lab: not logged in');
        return;
      }
      await lab.logOut();
      void vscode.window.showInformationMessage('DC Lab: logged out (auth keys kept, authorizations dropped)');
    }),

    reg('dclab.forgetKeys', async () => {
      const pick = await vscode.window.showWarningMessage(
        'DC Lab: forget the auth keys? Every DC holding one is asked to destroy it (destroy_auth_key); you will have to log in again.',
        { modal: true },
        'Forget Keys',
      );
      if (pick !== 'Forget Keys') return;
      const answers = await lab.forgetKeys();
      const text = [...answers].map(([dc, a]) => `DC${dc}: ${a.replace('destroy_auth_key_', '')}`).join(', ');
      void vscode.window.showInformationMessage(`DC Lab: keys forgotten${text ? ` (${text})` : ' (none were stored)'}`);
    }),

    reg('dclab.runQuery', async (methodArg?: unknown, paramsArg?: unknown, dcArg?: unknown) => {
      const schema = apiSchema();
      let method = typeof methodArg === 'string' ? methodArg : undefined;
      if (!method) {
        const items = schema.entries
          .filter((e) => e.kind === 'method')
          .map((e) => ({ label: e.name, description: e.type, detail: e.comment?.slice(0, 160) }))
          .sort((a, b) => a.label.localeCompare(b.label));
        const pick = await vscode.window.showQuickPick(items, {
          title: `DC Lab: Run Query (layer ${schema.layer})`,
          placeHolder: 'method, e.g. help.getConfig',
          matchOnDescription: false,
          matchOnDetail: false,
          ignoreFocusOut: true,
        });
        if (!pick) return;
        method = pick.label;
      }
      const entry = schema.methodByName(method);
      if (!entry) throw new Error(`unknown method ${method}`);
      let paramsText = typeof paramsArg === 'string' ? paramsArg : paramsArg && typeof paramsArg === 'object' ? JSON.stringify(paramsArg) : undefined;
      if (paramsText === undefined) {
        const fields = entry.params.filter((p) => p.type !== '#');
        if (fields.length === 0) paramsText = '{}';
        else {
          paramsText = await vscode.window.showInputBox({
            title: `DC Lab: ${method} parameters (JSON)`,
            prompt: fields.map((p) => `${p.name}: ${p.flag ? `flags.${p.flag.bit}?` : ''}${p.type}`).join(', '),
            value: '{}',
            ignoreFocusOut: true,
            validateInput: (v) => {
              try {
                const x: unknown = JSON.parse(v || '{}');
                return x && typeof x === 'object' && !Array.isArray(x) ? undefined : 'a JSON object';
              } catch (e) {
                return `not JSON: ${(e as Error).message}`;
              }
            },
          });
          if (paramsText === undefined) return;
        }
      }
      let dcId: number | undefined = typeof dcArg === 'number' ? dcArg : undefined;
      if (dcArg === undefined && typeof methodArg !== 'string') {
        const dcText = await vscode.window.showInputBox({
          title: `DC Lab: run ${method} on DC…`,
          prompt: 'A DC id, or empty for the home DC (a non-home DC gets the authorization transferred first)',
          ignoreFocusOut: true,
          validateInput: (v) => (v.trim() === '' || /^\d{1,5}$/.test(v.trim()) ? undefined : 'a DC id or empty'),
        });
        if (dcText === undefined) return;
        if (dcText.trim()) dcId = Number(dcText.trim());
      }
      const params: unknown = JSON.parse(paramsText || '{}');
      await connectWithProgress(deps);
      const res = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `DC Lab: ${method}${dcId !== undefined ? ` @DC${dcId}` : ''}`, cancellable: true },
        (progress, token) =>
          new Promise<CallAnswer | undefined>((resolve, reject) => {
            token.onCancellationRequested(() => resolve(undefined)); // the call finishes in the background; its result is dropped
            lab.runQuery(method!, params, dcId).then(resolve, reject);
            progress.report({ message: 'running…' });
          }),
      );
      if (!res) return;
      const chain = callChainLine(lab, res.traceId);
      log.info(`${method}: answered by DC${res.answeredDc} (${formatHops(res.hops)}) in ${res.ms} ms${chain ? ` — ${chain}` : ''}`);
      const links = res.traceId > 0 ? [{ line: 0, traceId: res.traceId, title: 'Show call in DC Lab trace' }] : [];
      const uri = results.add(`${method}@DC${res.answeredDc}`, `${JSON.stringify(res.result, null, 2)}\n`, links);
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.languages.setTextDocumentLanguage(doc, 'json');
      await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
      return res.result;
    }),

    reg('dclab.downloadFile', async (arg?: unknown) => {
      let req: DownloadRequest | undefined = arg && typeof arg === 'object' && 'dcId' in arg && 'location' in arg ? (arg as DownloadRequest) : undefined;
      if (!req) {
        await connectWithProgress(deps);
        type Item = vscode.QuickPickItem & { req?: DownloadRequest };
        const items: Item[] = [];
        if (lab.status()?.state === 'authorized') {
          try {
            for (const m of await listSavedMedia(lab.client!)) {
              items.push({
                label: m.name ?? `${m.kind} #${m.messageId}`,
                description: `dc_id ${m.dcId} · ${m.size.toLocaleString('en-US')} bytes`,
                detail: `Saved Messages #${m.messageId} · ${m.kind}${m.mimeType ? ` · ${m.mimeType}` : ''}`,
                req: { dcId: m.dcId, location: m.locationJson, size: m.size, ...(m.name ? { name: m.name } : { name: `${m.kind}-${m.messageId}.jpg` }) },
              });
            }
          } catch (e) {
            log.warn(`listing Saved Messages failed: ${errText(e)}`);
          }
        }
        items.push({ label: '$(json) Enter a dc_id and an InputFileLocation JSON…' });
        const pick = await vscode.window.showQuickPick(items, {
          title: 'DC Lab: Download File by dc_id',
          placeHolder: items.length > 1 ? 'a file of Saved Messages, or enter a location' : 'enter a location (log in to list your files)',
          matchOnDescription: true,
          ignoreFocusOut: true,
        });
        if (!pick) return;
        const base = pick.req;
        const dcText = await vscode.window.showInputBox({
          title: "DC Lab: the file's dc_id",
          prompt: base ? `The media says dc_id ${base.dcId}; another DC answers FILE_MIGRATE_${base.dcId}` : 'dc_id of the file (the DC that stores it)',
          ...(base ? { value: String(base.dcId) } : {}),
          ignoreFocusOut: true,
          validateInput: (v) => (/^\d{1,5}$/.test(v.trim()) && Number(v) >= 1 ? undefined : 'a DC id'),
        });
        if (dcText === undefined) return;
        let location = base?.location;
        if (!location) {
          const locText = await vscode.window.showInputBox({
            title: 'DC Lab: InputFileLocation (JSON)',
            prompt: '{"_":"inputDocumentFileLocation","id":"…","access_hash":"…","file_reference":"<base64>","thumb_size":""}',
            ignoreFocusOut: true,
            validateInput: (v) => {
              try {
                JSON.parse(v);
                return undefined;
              } catch {
                return 'not JSON';
              }
            },
          });
          if (locText === undefined) return;
          location = JSON.parse(locText);
        }
        req = { ...(base ?? {}), dcId: Number(dcText.trim()), location };
      } else {
        await connectWithProgress(deps);
      }
      const { done } = downloads.start(req);
      const d = await done;
      if (d.state === 'done') {
        const open = 'Reveal';
        void vscode.window
          .showInformationMessage(
            `DC Lab: downloaded ${d.name} (${d.bytes.toLocaleString('en-US')} bytes) via DC ${d.dcPath?.join(' → ') ?? d.dcId}${d.cdn ? ' (CDN)' : ''}`,
            open,
          )
          .then((c) => {
            if (c === open && d.path) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(d.path));
          });
      } else if (d.state === 'failed') throw new Error(`download failed: ${d.error}`);
      return d;
    }),

    reg('dclab.exportTrace', async () => {
      const uri = await vscode.window.showSaveDialog({ filters: { 'DC Lab trace': ['json'] }, saveLabel: 'Export trace' });
      if (!uri) return;
      await vscode.workspace.fs.writeFile(uri, Buffer.from(lab.trace.exportJson(), 'utf8'));
      log.info(`trace exported: ${lab.trace.size} events to ${uri.fsPath}`);
      void vscode.window.showInformationMessage(`DC Lab: ${lab.trace.size} trace events exported (payloads redacted)`);
    }),

    reg('dclab.importTrace', async () => {
      const uris = await vscode.window.showOpenDialog({ filters: { 'DC Lab trace': ['json'] }, canSelectMany: false });
      if (!uris?.[0]) return;
      const n = lab.importTrace(Buffer.from(await vscode.workspace.fs.readFile(uris[0])).toString('utf8'));
      void vscode.window.showInformationMessage(`DC Lab: ${n} trace events imported`);
    }),

    reg('dclab.chooseProfile', async () => {
      const custom = await lab.customNames();
      const items: (vscode.QuickPickItem & { value: string })[] = [
        { label: 'sandbox', description: 'the embedded multi-DC sandbox (no account, no api_id)', value: 'sandbox' },
        { label: 'test', description: "Telegram's test DCs (needs api_id + api_hash)", value: 'test' },
        { label: 'production', description: "Telegram's production DCs (needs api_id + api_hash)", value: 'production' },
        ...custom.map((n) => ({ label: n, description: 'custom server', value: n })),
        { label: '$(add) Add custom server…', value: '+custom' },
      ];
      const pick = await vscode.window.showQuickPick(items, { title: `DC Lab: profile (now ${lab.profileName})` });
      if (!pick) return;
      if (pick.value === '+custom') return vscode.commands.executeCommand('dclab.addCustomServer');
      await vscode.workspace.getConfiguration('dclab').update('profile', pick.value, vscode.ConfigurationTarget.Global);
      if ((pick.value === 'test' || pick.value === 'production') && !(await lab.store.getApiHash())) {
        const set = 'Set api_hash';
        const c = await vscode.window.showInformationMessage(
          `DC Lab: the ${pick.value} profile needs "dclab.apiId" in the settings and an api_hash (kept in SecretStorage)`,
          set,
        );
        if (c === set) await vscode.commands.executeCommand('dclab.setApiHash');
      }
    }),

    reg('dclab.setApiHash', async () => {
      if (lab.profileName === 'sandbox') {
        void vscode.window.showInformationMessage('DC Lab: the sandbox profile needs no api_hash; choose the test/production/custom profile first');
        return;
      }
      const v = await vscode.window.showInputBox({
        title: `DC Lab: api_hash for the ${lab.profileName} profile`,
        prompt: 'From my.telegram.org — stored only in VS Code SecretStorage',
        password: true,
        ignoreFocusOut: true,
        validateInput: (x) => (/^[0-9a-fA-F]{32}$/.test(x.trim()) ? undefined : '32 hex digits'),
      });
      if (v === undefined) return;
      await lab.store.setApiHash(v.trim());
      log.info(`api_hash stored in SecretStorage for profile ${lab.profileName}`);
      void vscode.window.showInformationMessage('DC Lab: api_hash stored in SecretStorage');
    }),

    reg('dclab.addCustomServer', async () => {
      const name = await vscode.window.showInputBox({
        title: 'DC Lab: custom server name',
        placeHolder: 'mylab',
        validateInput: (v) => (/^[A-Za-z0-9_.-]{1,64}$/.test(v) ? undefined : 'letters, digits, _ . - (1..64)'),
      });
      if (!name) return;
      const dcsText = await vscode.window.showInputBox({
        title: 'DC Lab: DC addresses',
        prompt: 'ID=HOST:PORT, comma separated (e.g. 1=10.0.0.1:443, 2=10.0.0.2:443)',
        ignoreFocusOut: true,
        validateInput: (v) => (v.split(',').every((s) => /^\s*\d{1,5}=(\[[0-9a-fA-F:.]+\]|[^:=\s]+):\d{1,5}\s*$/.test(s)) ? undefined : 'ID=HOST:PORT, …'),
      });
      if (!dcsText) return;
      const dcs = dcsText.split(',').map((s) => {
        const m = /^\s*(\d+)=(\[[0-9a-fA-F:.]+\]|[^:=\s]+):(\d+)\s*$/.exec(s)!;
        return { id: Number(m[1]), host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) };
      });
      const pem = await vscode.window.showOpenDialog({
        title: 'The server RSA public key (PEM)',
        canSelectMany: false,
        filters: { PEM: ['pem', 'pub', 'key', 'txt'] },
      });
      if (!pem?.[0]) return;
      const rsaPem = readFileSync(pem[0].fsPath, 'utf8');
      const mode = await vscode.window.showQuickPick(['production-style (dc id as is)', 'test mode (dc + 10000 in p_q_inner_data_dc)'], {
        title: 'Handshake mode',
      });
      if (!mode) return;
      const profile = parseProfileName(`custom:${name}`);
      await lab.saveCustomServer(profile, { dcs, rsaPem, testMode: mode.startsWith('test') });
      await vscode.workspace.getConfiguration('dclab').update('profile', profile, vscode.ConfigurationTarget.Global);
      void vscode.window.showInformationMessage(`DC Lab: profile ${profile} saved (${dcs.length} DCs); set "dclab.apiId" and the api_hash to connect`);
    }),

    reg('dclab.showLog', async () => log.show()),
  ];
}
