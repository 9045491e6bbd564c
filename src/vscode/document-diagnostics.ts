// A DiagnosticCollection kept up to date for the open documents of one language: computed when a document opens,
// ~200 ms after the last keystroke, and for all of them when what they depend on changes (schema, environment).
import * as vscode from 'vscode';
import type { TextRange } from '../reqfile';

export const DIAGNOSTIC_DELAY_MS = 200;

export type ComputeDiagnostics = (doc: vscode.TextDocument) => vscode.Diagnostic[] | Promise<vscode.Diagnostic[]>;

export class DocumentDiagnostics implements vscode.Disposable {
  readonly collection: vscode.DiagnosticCollection;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    name: string,
    private readonly languageId: string,
    private readonly compute: ComputeDiagnostics,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.collection = vscode.languages.createDiagnosticCollection(name);
    this.subscriptions = [
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => e.contentChanges.length && this.schedule(e.document, DIAGNOSTIC_DELAY_MS)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d)),
    ];
    this.refreshAll();
  }

  /** Recomputes every open document of the language (the schema or the environment changed). */
  refreshAll(): void {
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  /** Computes one document now (a run about to refuse an invalid file shows the same squiggles). */
  async update(doc: vscode.TextDocument): Promise<void> {
    const key = doc.uri.toString();
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
    const version = doc.version;
    try {
      const diagnostics = await this.compute(doc);
      // a newer edit (or a close) wins: it has scheduled its own update
      if (doc.isClosed || doc.version !== version) return;
      this.collection.set(doc.uri, diagnostics);
    } catch (e) {
      this.log.warn(`diagnostics of ${doc.uri.toString()}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private schedule(doc: vscode.TextDocument, delay: number): void {
    if (doc.languageId !== this.languageId) return;
    const key = doc.uri.toString();
    const old = this.timers.get(key);
    if (old) clearTimeout(old);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.update(doc);
      }, delay),
    );
  }

  private forget(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
    this.collection.delete(doc.uri);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const s of this.subscriptions) s.dispose();
    this.collection.dispose();
  }
}

/** A 0-based offset range of the plain-Node analyzers → a vscode.Range of the document. */
export function toRange(doc: vscode.TextDocument, r: TextRange): vscode.Range {
  return new vscode.Range(doc.positionAt(r.start), doc.positionAt(r.end));
}
