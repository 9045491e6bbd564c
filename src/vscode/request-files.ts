// Request files (`.mtproto`, src/reqfile) in the editor: diagnostics, completion, hover and folding from the
// plain-Node core, a CodeLens "▶ Run" / "Run on DC…" above each request's method line, and the run commands. A run
// goes through the lab's logged-in client (the same client, trace store and redaction as the panel's queries);
// variables assigned by a request are kept per document, so running request 2 after request 1 works. The result
// opens beside as a read-only JSON document (one per request file, replaced on each run) whose CodeLens opens the
// panel's trace at that call.
import * as vscode from 'vscode';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import {
  analyzeRequestFile,
  clientRunCall,
  completeAt,
  hoverAt,
  parseRequestFile,
  runRequests,
  type ReqCompletion,
  type ReqDiagnostic,
  type RequestBlock,
  type RequestRunResult,
} from '../reqfile';
import { connectWithProgress, guarded, type CommandDeps } from './commands';
import { DocumentDiagnostics, toRange } from './document-diagnostics';
import { RequestEnvironments, requestFilePath } from './request-environments';
import {
  abortableCall,
  blockingErrors,
  describeDiagnostics,
  renderResults,
  requestFoldingRanges,
  requestIndexAt,
  requestLabel,
  runSummary,
} from './request-results';
import type { RequestSchemaSource } from './request-schema';
import { ResultDocuments, showResultDocument } from './result-documents';
import { topologyOf } from './topology';

export const MTPROTO_LANGUAGE = 'mtproto';
const SELECTOR: vscode.DocumentSelector = { language: MTPROTO_LANGUAGE };

const SEVERITY: Record<ReqDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

const COMPLETION_KIND: Record<ReqCompletion['kind'], vscode.CompletionItemKind> = {
  method: vscode.CompletionItemKind.Method,
  param: vscode.CompletionItemKind.Property,
  constructor: vscode.CompletionItemKind.Constructor,
  variable: vscode.CompletionItemKind.Variable,
  directive: vscode.CompletionItemKind.Keyword,
};

interface RunTarget {
  /** One request (0-based index); absent = the whole file. */
  only?: number;
  /** A DC for the run (overrides `@dc`). */
  dcOverride?: number;
}

export function registerRequestFiles(deps: CommandDeps, schema: RequestSchemaSource): vscode.Disposable[] {
  const { context, log } = deps;
  const environments = new RequestEnvironments(context, log);
  const diagnostics = new DocumentDiagnostics(
    'dclab-requests',
    MTPROTO_LANGUAGE,
    async (doc) => {
      const env = await environments.load(doc);
      return analyzeRequestFile(doc.getText(), schema.get(), { knownVariables: Object.keys(env.variables) }).map((d) => {
        const diagnostic = new vscode.Diagnostic(toRange(doc, d.range), d.message, SEVERITY[d.severity]);
        diagnostic.code = d.code;
        diagnostic.source = 'DC Lab';
        return diagnostic;
      });
    },
    log,
  );
  const runner = new RequestRunner(deps, schema, environments, diagnostics);
  const reg = (id: string, fn: (...args: unknown[]) => Promise<unknown>): vscode.Disposable => vscode.commands.registerCommand(id, guarded(deps, id, fn));

  return [
    environments,
    diagnostics,
    schema.onDidChange(() => diagnostics.refreshAll()),
    environments.onDidChange(() => diagnostics.refreshAll()),
    vscode.workspace.onDidCloseTextDocument((d) => runner.forget(d)),

    vscode.languages.registerCodeLensProvider(SELECTOR, {
      provideCodeLenses(doc) {
        return parseRequestFile(doc.getText())
          .requests.filter((r) => r.method !== '')
          .flatMap((r) => requestLenses(doc, r));
      },
    }),

    vscode.languages.registerCompletionItemProvider(
      SELECTOR,
      {
        async provideCompletionItems(doc, position) {
          const env = await environments.load(doc);
          const offset = doc.offsetAt(position);
          const items = completeAt(doc.getText(), offset, schema.get(), { knownVariables: Object.keys(env.variables) }).map((c, i) =>
            completionItem(doc, position, c, i),
          );
          return new vscode.CompletionList(items, false);
        },
      },
      '.',
      '"',
      '{',
      '@',
      ':',
    ),

    vscode.languages.registerHoverProvider(SELECTOR, {
      async provideHover(doc, position) {
        const env = await environments.load(doc);
        const hover = hoverAt(doc.getText(), doc.offsetAt(position), schema.get(), { variables: env.variables });
        return hover ? new vscode.Hover(new vscode.MarkdownString(hover.markdown), toRange(doc, hover.range)) : undefined;
      },
    }),

    // the language configuration's marker folding cannot end a region at the next `###`
    vscode.languages.registerFoldingRangeProvider(SELECTOR, {
      provideFoldingRanges(doc) {
        const text = doc.getText();
        return requestFoldingRanges(text, parseRequestFile(text).requests).map((f) => new vscode.FoldingRange(f.start, f.end, vscode.FoldingRangeKind.Region));
      },
    }),

    reg('dclab.runRequest', async (uriArg?: unknown, indexArg?: unknown) => {
      const { doc, index } = await requestTarget(uriArg, indexArg);
      if (index === undefined)
        return void vscode.window.showInformationMessage('DC Lab: this file has no requests (a request is a method name line, then its JSON body)');
      await runner.run(doc, { only: index });
    }),

    reg('dclab.runRequestOnDc', async (uriArg?: unknown, indexArg?: unknown) => {
      const { doc, index } = await requestTarget(uriArg, indexArg);
      if (index === undefined) return void vscode.window.showInformationMessage('DC Lab: this file has no requests');
      // asked after the checks and the login, when the profile's DCs are known
      await runner.run(doc, { only: index }, (request) => pickDc(deps, request));
    }),

    reg('dclab.runAllRequests', async (uriArg?: unknown) => {
      const { doc } = await requestTarget(uriArg, undefined);
      await runner.run(doc, {});
    }),

    reg('dclab.selectRequestEnvironment', () => environments.pick()),
  ];
}

function requestLenses(doc: vscode.TextDocument, r: RequestBlock): vscode.CodeLens[] {
  const range = new vscode.Range(r.headerLine, 0, r.headerLine, 0);
  const label = requestLabel(r);
  return [
    new vscode.CodeLens(range, {
      title: '▶ Run',
      command: 'dclab.runRequest',
      arguments: [doc.uri, r.index],
      tooltip: `Run ${label}${r.dcId !== undefined ? ` on DC${r.dcId}` : ''} with the logged-in DC Lab client`,
    }),
    new vscode.CodeLens(range, {
      title: 'Run on DC…',
      command: 'dclab.runRequestOnDc',
      arguments: [doc.uri, r.index],
      tooltip: `Run ${label} on a DC you choose`,
    }),
  ];
}

function completionItem(doc: vscode.TextDocument, position: vscode.Position, c: ReqCompletion, order: number): vscode.CompletionItem {
  const item = new vscode.CompletionItem(c.label, COMPLETION_KIND[c.kind]);
  if (c.detail) item.detail = c.detail;
  if (c.documentation) item.documentation = new vscode.MarkdownString(c.documentation);
  if (c.insertText !== undefined) item.insertText = c.insertText;
  if (c.range) {
    const range = toRange(doc, c.range);
    // VS Code takes a single-line range around the cursor only
    if (range.isSingleLine && range.contains(position)) item.range = range;
  }
  // the core's order (required parameters first, closest names first) is the order shown
  item.sortText = String(order).padStart(5, '0');
  return item;
}

/** The document and request of a command: CodeLens arguments (uri, index), an editor-title uri, or the cursor. */
async function requestTarget(uriArg: unknown, indexArg: unknown): Promise<{ doc: vscode.TextDocument; index: number | undefined }> {
  let doc: vscode.TextDocument | undefined;
  if (uriArg instanceof vscode.Uri) doc = await vscode.workspace.openTextDocument(uriArg);
  else if (typeof uriArg === 'string' && uriArg) doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(uriArg));
  const editor = vscode.window.activeTextEditor;
  if (!doc && editor?.document.languageId === MTPROTO_LANGUAGE) doc = editor.document;
  if (!doc) throw new Error('open a request file (.mtproto) first');
  if (typeof indexArg === 'number') return { doc, index: indexArg };
  const requests = parseRequestFile(doc.getText()).requests;
  const cursor = editor && editor.document === doc ? doc.offsetAt(editor.selection.active) : 0;
  return { doc, index: requestIndexAt(requests, cursor) };
}

/** A quick pick of the profile's DCs (not the CDN-only ones), the request's `@dc` (else the home DC) preselected. */
async function pickDc(deps: CommandDeps, request: RequestBlock | undefined): Promise<number | undefined> {
  const topology = topologyOf(deps.lab, []);
  const nodes = topology.nodes.filter((n) => n.endpoints.length === 0 || n.endpoints.some((e) => !e.cdn));
  if (nodes.length === 0) throw new Error(`no DCs known for the ${deps.lab.profileName} profile yet: connect first`);
  type Item = vscode.QuickPickItem & { dcId: number };
  const items: Item[] = nodes.map((n) => ({
    label: `DC ${n.dcId}`,
    description: [
      n.home ? 'home' : n.authorized ? 'authorized' : n.hasKey ? 'auth key' : 'no auth key yet',
      n.latencyMs !== undefined ? `${n.latencyMs} ms` : '',
    ]
      .filter(Boolean)
      .join(' · '),
    detail: request?.dcId === n.dcId ? "the request's @dc" : undefined,
    dcId: n.dcId,
  }));
  const preselect = request?.dcId ?? topology.homeDc;
  const qp = vscode.window.createQuickPick<Item>();
  qp.title = `DC Lab: run ${request ? requestLabel(request) : 'the request'} on DC…`;
  qp.placeholder = 'a non-home DC gets the authorization transferred first';
  qp.items = items;
  qp.ignoreFocusOut = true;
  const active = items.find((i) => i.dcId === preselect);
  if (active) qp.activeItems = [active];
  try {
    return await new Promise<number | undefined>((resolve) => {
      qp.onDidAccept(() => resolve(qp.selectedItems[0]?.dcId ?? qp.activeItems[0]?.dcId));
      qp.onDidHide(() => resolve(undefined));
      qp.show();
    });
  } finally {
    qp.dispose();
  }
}

/** Runs requests of a document through the lab's client and shows the results. */
class RequestRunner {
  /** Assigned variables carried between runs, per document URI. */
  private readonly variables = new Map<string, Record<string, string>>();

  constructor(
    private readonly deps: CommandDeps,
    private readonly schema: RequestSchemaSource,
    private readonly environments: RequestEnvironments,
    private readonly diagnostics: DocumentDiagnostics,
  ) {}

  forget(doc: vscode.TextDocument): void {
    this.variables.delete(doc.uri.toString());
  }

  /** Checks, logs in if needed, asks for a DC when `chooseDc` is given, runs, shows the result document. */
  async run(doc: vscode.TextDocument, target: RunTarget, chooseDc?: (request: RequestBlock | undefined) => Promise<number | undefined>): Promise<void> {
    const { lab, log } = this.deps;
    const text = doc.getText();
    const file = parseRequestFile(text);
    const name = basename(requestFilePath(doc));
    if (file.requests.length === 0) return void vscode.window.showInformationMessage(`DC Lab: ${name} has no requests`);
    const selected = target.only !== undefined ? file.requests[target.only] : undefined;
    if (target.only !== undefined && !selected) throw new Error(`${name} has no request #${target.only + 1} any more`);
    const what = selected ? requestLabel(selected) : `${file.requests.length} request${file.requests.length === 1 ? '' : 's'} of ${name}`;

    const env = await this.environments.load(doc);
    if (env.error) {
      const choose = 'Select Environment';
      void vscode.window
        .showErrorMessage(`DC Lab: ${env.error}`, choose)
        .then((c) => c === choose && vscode.commands.executeCommand('dclab.selectRequestEnvironment'));
      return;
    }
    const schema = this.schema.get();
    const errors = blockingErrors(analyzeRequestFile(text, schema, { knownVariables: Object.keys(env.variables) }), file.requests, target.only);
    if (errors.length) {
      await this.diagnostics.update(doc);
      const problems = 'Show Problems';
      void vscode.window
        .showErrorMessage(`DC Lab: ${what} not sent — ${errors.length} error${errors.length === 1 ? '' : 's'}: ${describeDiagnostics(text, errors)}`, problems)
        .then((c) => c === problems && vscode.commands.executeCommand('workbench.actions.view.problems'));
      return;
    }
    if (!(await this.ensureLoggedIn())) return;
    const client = lab.client;
    if (!client) throw new Error('not connected');
    if (chooseDc) {
      const dcId = await chooseDc(selected);
      if (dcId === undefined) return;
      target = { ...target, dcOverride: dcId };
    }

    const key = doc.uri.toString();
    const carried = this.variables.get(key) ?? {};
    const results: RequestRunResult[] = [];
    const dcText = target.dcOverride !== undefined ? ` @DC${target.dcOverride}` : selected?.dcId !== undefined ? ` @DC${selected.dcId}` : '';
    const out = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `DC Lab: ${what}${dcText}`, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        const cancel = token.onCancellationRequested(() => abort.abort());
        try {
          return await runRequests(text, {
            schema,
            call: abortableCall(clientRunCall(client, { trace: lab.trace, profile: lab.profileName }), abort.signal),
            ...(target.only !== undefined ? { only: target.only } : {}),
            ...(target.dcOverride !== undefined ? { dcOverride: target.dcOverride } : {}),
            environment: env.variables,
            variables: carried,
            stopOnError: true,
            signal: abort.signal,
            onResult: (r) => {
              results.push(r);
              progress.report({ message: `${requestLabel(r)} → ${r.ok ? 'ok' : (r.error?.code ?? 'failed')}` });
            },
          });
        } finally {
          cancel.dispose();
        }
      },
    );
    this.variables.set(key, out.variables);
    if (results.some((r) => r.dcId !== undefined && r.dcId !== lab.status()?.homeDc)) lab.pingConnected();

    for (const r of results) {
      const assigned = Object.keys(r.assigned);
      // names only: assigned values may be anything a response holds
      log.info(
        `request ${name} ${requestLabel(r)}${r.dcId !== undefined ? ` @DC${r.dcId}` : ''} → ${r.ok ? 'ok' : `${r.error?.code}: ${r.error?.message}`} (${r.durationMs} ms)${assigned.length ? `, assigned ${assigned.join(', ')}` : ''}${r.chain ? ` — ${r.chain.split('\n')[0]!.replace(/^\+\s*\d+ms\s+chain #\d+:\s*/, '')}` : ''}`,
      );
    }
    if (results.length === 0) return void vscode.window.showInformationMessage(`DC Lab: ${what}: cancelled, nothing ran`);

    const all = target.only === undefined;
    const uri = this.resultUri(doc, name);
    const rendered = renderResults(results, { all });
    this.deps.results.set(uri, rendered.text, rendered.links);
    await showResultDocument(uri);

    const summary = runSummary(results, all ? file.requests.length : 1);
    const failed = results.find((r) => !r.ok);
    const traceId = Number((failed ?? results[results.length - 1])?.traceId);
    const showTrace = 'Show in Trace';
    const buttons = Number.isSafeInteger(traceId) && traceId > 0 ? [showTrace] : [];
    const shown = failed
      ? vscode.window.showErrorMessage(`DC Lab: ${summary}`, ...buttons)
      : vscode.window.showInformationMessage(`DC Lab: ${summary}`, ...buttons);
    void shown.then((c) => c === showTrace && vscode.commands.executeCommand('dclab.showTraceEvent', traceId));
  }

  /** Connects (restoring a stored authorization); when not logged in, offers the login command or a run anyway. */
  private async ensureLoggedIn(): Promise<boolean> {
    const { lab } = this.deps;
    await connectWithProgress(this.deps);
    if (lab.status()?.state === 'authorized') return true;
    const login = 'Log In';
    const anyway = 'Run Anyway';
    const c = await vscode.window.showWarningMessage(
      `DC Lab: not logged in on the ${lab.profileName} profile — most methods need a logged-in user (AUTH_KEY_UNREGISTERED otherwise).`,
      login,
      anyway,
    );
    if (c === anyway) return true;
    if (c !== login) return false;
    await vscode.commands.executeCommand('dclab.login');
    return lab.status()?.state === 'authorized';
  }

  /** One result document per request file. */
  private resultUri(doc: vscode.TextDocument, name: string): vscode.Uri {
    const id = createHash('sha256').update(doc.uri.toString()).digest('hex').slice(0, 12);
    return vscode.Uri.from({ scheme: ResultDocuments.scheme, path: `/requests/${id}/${name}.result.json` });
  }
}
