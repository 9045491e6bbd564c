// Read-only JSON documents with results (`dclab-result:` URIs, so closing them never asks to save): the palette's
// "Run Query" results (a new document each) and one result document per request file (replaced on every run).
// Lines that start a call's entry get a CodeLens "Show call in DC Lab trace" (dclab.showTraceEvent).
import * as vscode from 'vscode';
import type { TraceLink } from './request-results';

interface ResultDocument {
  content: string;
  links: TraceLink[];
}

const MAX_DOCUMENTS = 50;
/** Internal (CodeLens only, not in the palette): the trace of entry N of a result document. */
const SHOW_ENTRY_TRACE = 'dclab.showResultEntryTrace';

export class ResultDocuments implements vscode.TextDocumentContentProvider, vscode.CodeLensProvider {
  static readonly scheme = 'dclab-result';
  private readonly docs = new Map<string, ResultDocument>();
  private readonly contentChanged = new vscode.EventEmitter<vscode.Uri>();
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChange = this.contentChanged.event;
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  private seq = 0;

  register(): vscode.Disposable[] {
    return [
      vscode.workspace.registerTextDocumentContentProvider(ResultDocuments.scheme, this),
      vscode.languages.registerCodeLensProvider({ scheme: ResultDocuments.scheme }, this),
      // the lens names its entry, not a trace id: a lens VS Code has not refreshed yet after a new run still opens
      // the call the document shows now
      vscode.commands.registerCommand(SHOW_ENTRY_TRACE, (uri: unknown, entry: unknown) => {
        const link = typeof uri === 'string' && typeof entry === 'number' ? this.docs.get(vscode.Uri.parse(uri).path)?.links[entry] : undefined;
        if (link) return vscode.commands.executeCommand('dclab.showTraceEvent', link.traceId);
        return undefined;
      }),
      this.contentChanged,
      this.lensesChanged,
    ];
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.path)?.content ?? '';
  }

  /** A new document (numbered path) named after `name`. */
  add(name: string, content: string, links: TraceLink[] = []): vscode.Uri {
    const path = `/${++this.seq}/${name.replace(/[^\w.-]+/g, '_')}.json`;
    this.store(path, { content, links });
    return vscode.Uri.from({ scheme: ResultDocuments.scheme, path });
  }

  /** Replaces the content of a fixed document (open editors update). */
  set(uri: vscode.Uri, content: string, links: TraceLink[] = []): void {
    this.store(uri.path, { content, links });
    this.contentChanged.fire(uri);
    this.lensesChanged.fire();
  }

  private store(path: string, doc: ResultDocument): void {
    this.docs.delete(path);
    this.docs.set(path, doc);
    if (this.docs.size > MAX_DOCUMENTS) this.docs.delete(this.docs.keys().next().value!);
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const links = this.docs.get(document.uri.path)?.links ?? [];
    return links.flatMap((l, i) =>
      l.line < document.lineCount
        ? [
            new vscode.CodeLens(new vscode.Range(l.line, 0, l.line, 0), {
              title: `$(list-tree) ${l.title}`,
              command: SHOW_ENTRY_TRACE,
              arguments: [document.uri.toString(), i],
              tooltip: `Open the DC Lab panel's trace at event #${l.traceId}`,
            }),
          ]
        : [],
    );
  }
}

/** Opens (or refreshes and reveals) a result document beside the active editor, keeping the focus where it is. */
export async function showResultDocument(uri: vscode.Uri): Promise<void> {
  let doc = await vscode.workspace.openTextDocument(uri);
  if (doc.languageId !== 'json') doc = await vscode.languages.setTextDocumentLanguage(doc, 'json');
  const open = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
  await vscode.window.showTextDocument(doc, { viewColumn: open?.viewColumn ?? vscode.ViewColumn.Beside, preserveFocus: true, preview: false });
}
