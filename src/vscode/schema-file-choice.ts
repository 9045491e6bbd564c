// Which `.tl` file the setting dclab.schemaFile lets request files read (no VS Code API here, so it is testable
// alone). A workspace's own settings travel with the repository, so an untrusted workspace's value is never read;
// and whatever the source, only a regular `.tl` file of bounded size at exactly the chosen path is opened.
import { statSync } from 'node:fs';
import { extname, isAbsolute, join, resolve } from 'node:path';

/** Larger than any layer's api.tl (about 200 KiB) by far; a bigger file is not a schema. */
export const MAX_SCHEMA_FILE_BYTES = 16 * 1024 * 1024;

/** The setting's values by scope, as `WorkspaceConfiguration.inspect` reports them. */
export interface SchemaFileSettingValues {
  globalValue?: string | undefined;
  workspaceValue?: string | undefined;
  workspaceFolderValue?: string | undefined;
}

export type SchemaFileChoice =
  | { kind: 'bundled'; note?: string }
  | { kind: 'file'; path: string; scope: 'user' | 'workspace' }
  | { kind: 'refused'; path: string; reason: string };

/** The setting's path: absolute, `~/…`, or relative to the first workspace folder. */
export function resolveSchemaFile(setting: string, workspaceFolder: string | undefined, home: string | undefined): string {
  if (setting.startsWith('~/') && home) return join(home, setting.slice(2));
  if (isAbsolute(setting)) return setting;
  return resolve(workspaceFolder ?? process.cwd(), setting);
}

/**
 * The file to read, or why none is. A workspace (or folder) value wins over the user's own when the workspace is
 * trusted; in an untrusted one it is ignored (the user's value, if any, still applies) and the note says so.
 */
export function chooseSchemaFile(
  values: SchemaFileSettingValues,
  env: { trusted: boolean; workspaceFolder: string | undefined; home: string | undefined },
): SchemaFileChoice {
  const user = values.globalValue?.trim() || undefined;
  const workspace = (values.workspaceFolderValue ?? values.workspaceValue)?.trim() || undefined;
  let note: string | undefined;
  let chosen: { value: string; scope: 'user' | 'workspace' } | undefined;
  if (workspace && env.trusted) chosen = { value: workspace, scope: 'workspace' };
  else {
    if (workspace) note = `this workspace is not trusted, so its dclab.schemaFile (${workspace}) is not read`;
    if (user) chosen = { value: user, scope: 'user' };
  }
  if (!chosen) return note ? { kind: 'bundled', note } : { kind: 'bundled' };
  const path = resolveSchemaFile(chosen.value, env.workspaceFolder, env.home);
  const refused = checkSchemaPath(path);
  return refused ? { kind: 'refused', path, reason: refused } : { kind: 'file', path, scope: chosen.scope };
}

/** Why `path` is not a file the setting may read, or undefined when it is. */
export function checkSchemaPath(path: string): string | undefined {
  if (extname(path).toLowerCase() !== '.tl') return 'only a `.tl` file is read (the name must end in .tl)';
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
  if (!st.isFile()) return 'not a regular file';
  if (st.size > MAX_SCHEMA_FILE_BYTES) return `${st.size} bytes, more than a schema file's ${MAX_SCHEMA_FILE_BYTES}`;
  return undefined;
}
