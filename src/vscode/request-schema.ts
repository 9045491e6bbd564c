// The schema request files are checked, completed and run against: the bundled API layer (as `dclab run` uses),
// or — with the setting `dclab.schemaFile` — a user's `.tl` merged over the MTProto service schema
// (schemaFromTlText). Reloaded when the setting changes or that file is saved. `.tl` files also ask it which types
// exist elsewhere, so a partial schema file does not warn about every API type it uses.
import * as vscode from 'vscode';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { apiSchema, fullSchema, schemaFromTlText } from '../tl/bundled';
import type { TlSchema } from '../tl/schema';
import { chooseSchemaFile } from './schema-file-choice';

export const SCHEMA_FILE_SETTING = 'schemaFile';

export class RequestSchemaSource implements vscode.Disposable {
  private schema: TlSchema | undefined;
  private knownTypes: Set<string> | undefined;
  private path: string | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.subscriptions = [
      this.changed,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`dclab.${SCHEMA_FILE_SETTING}`)) this.reload();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.reload()),
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (this.path && d.uri.scheme === 'file' && resolve(d.uri.fsPath) === this.path) this.reload();
      }),
    ];
  }

  /** The request files' schema (loaded on first use). */
  get(): TlSchema {
    if (!this.schema) this.schema = this.load();
    return this.schema;
  }

  /** Boxed types and constructor names a `.tl` file may use without defining them. */
  typesDefinedElsewhere(): Set<string> {
    if (!this.knownTypes) {
      const types = new Set<string>();
      for (const schema of [fullSchema(), this.get()]) {
        for (const e of schema.entries) {
          if (e.kind !== 'constructor') continue;
          types.add(e.type);
          types.add(e.name);
        }
      }
      this.knownTypes = types;
    }
    return this.knownTypes;
  }

  private reload(): void {
    this.schema = undefined;
    this.knownTypes = undefined;
    this.changed.fire();
  }

  private load(): TlSchema {
    this.path = undefined;
    const values = vscode.workspace.getConfiguration('dclab').inspect<string>(SCHEMA_FILE_SETTING) ?? {};
    const choice = chooseSchemaFile(values, {
      trusted: vscode.workspace.isTrusted,
      workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
      home: process.env.HOME,
    });
    if (choice.kind === 'bundled') {
      if (choice.note) this.log.info(`request files: ${choice.note}; using the bundled schema`);
      return apiSchema();
    }
    const path = choice.path;
    this.path = path;
    try {
      if (choice.kind === 'refused') throw new Error(choice.reason);
      const schema = schemaFromTlText(readFileSync(path, 'utf8'));
      const methods = schema.entries.filter((e) => e.kind === 'method').length;
      this.log.info(`request files: schema ${path} (layer ${schema.layer || '?'}, ${methods} methods)`);
      return schema;
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.log.warn(`request files: dclab.schemaFile ${path}: ${why}; using the bundled schema`);
      void vscode.window.showWarningMessage(
        `DC Lab: the schema file ${path} cannot be used (${why}); request files use the bundled layer ${apiSchema().layer} schema.`,
      );
      return apiSchema();
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
