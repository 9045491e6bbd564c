// TL schema files (`.tl`) in the editor, on top of src/tl/tl-file.ts: diagnostics (a written `#id` that is not the
// computed CRC32, syntax, unknown types, duplicates), hover with the computed constructor id, and go-to-definition
// of types. Types of the bundled schema (or the configured dclab.schemaFile) count as defined, so a partial file
// does not warn about every API type it mentions.
import * as vscode from 'vscode';
import { analyzeTlFile, tlDefinitionAt, tlHoverAt, type TlFileAnalysis, type TlFileDiagnostic } from '../tl/tl-file';
import { DocumentDiagnostics, toRange } from './document-diagnostics';
import type { RequestSchemaSource } from './request-schema';

export const TL_LANGUAGE = 'tl';
const SELECTOR: vscode.DocumentSelector = { language: TL_LANGUAGE };

const SEVERITY: Record<TlFileDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
};

export function registerTlFiles(schema: RequestSchemaSource, log: vscode.LogOutputChannel): vscode.Disposable[] {
  // the last analysis per document version: hover and definition reuse what the diagnostics computed
  const analyses = new Map<string, { version: number; analysis: TlFileAnalysis }>();
  const analyze = (doc: vscode.TextDocument): TlFileAnalysis => {
    const key = doc.uri.toString();
    const cached = analyses.get(key);
    if (cached && cached.version === doc.version) return cached.analysis;
    const analysis = analyzeTlFile(doc.getText(), { knownTypes: schema.typesDefinedElsewhere() });
    analyses.set(key, { version: doc.version, analysis });
    return analysis;
  };
  const diagnostics = new DocumentDiagnostics(
    'dclab-tl',
    TL_LANGUAGE,
    (doc) =>
      analyze(doc).diagnostics.map((d) => {
        const diagnostic = new vscode.Diagnostic(toRange(doc, d.range), d.message, SEVERITY[d.severity]);
        diagnostic.code = d.code;
        diagnostic.source = 'DC Lab';
        return diagnostic;
      }),
    log,
  );

  return [
    diagnostics,
    schema.onDidChange(() => {
      analyses.clear();
      diagnostics.refreshAll();
    }),
    vscode.workspace.onDidCloseTextDocument((d) => analyses.delete(d.uri.toString())),
    vscode.languages.registerHoverProvider(SELECTOR, {
      provideHover(doc, position) {
        const hover = tlHoverAt(analyze(doc), doc.getText(), doc.offsetAt(position));
        return hover ? new vscode.Hover(new vscode.MarkdownString(hover.markdown), toRange(doc, hover.range)) : undefined;
      },
    }),
    vscode.languages.registerDefinitionProvider(SELECTOR, {
      provideDefinition(doc, position) {
        return tlDefinitionAt(analyze(doc), doc.getText(), doc.offsetAt(position)).map((r) => new vscode.Location(doc.uri, toRange(doc, r)));
      },
    }),
  ];
}
