// Environment files: `dclab.env.json` in the request file's folder or the nearest parent folder that has one,
// `{ "$shared": { name: value }, "<envName>": { … } }`. `$shared` always applies; the selected environment
// overrides it. Strings are used as they are, other JSON values as their JSON text.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { valueAsText } from './variables';

export const ENV_FILE_NAME = 'dclab.env.json';
const SHARED = '$shared';

export class EnvironmentError extends Error {
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'EnvironmentError';
  }
}

/** The nearest `dclab.env.json` from the request file's folder upwards, or undefined. */
export async function findEnvironmentFile(requestFilePath: string): Promise<string | undefined> {
  let dir = dirname(resolve(requestFilePath));
  for (;;) {
    const candidate = join(dir, ENV_FILE_NAME);
    try {
      if ((await stat(candidate)).isFile()) return candidate;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new EnvironmentError(`${candidate}: cannot read it (${code ?? (e as Error).message})`, candidate);
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Environment names of a parsed file (without `$shared`). */
export function environmentNames(json: Record<string, unknown>): string[] {
  return Object.keys(json).filter((k) => k !== SHARED);
}

/**
 * The variables of environment `envName` (plus `$shared`) for a request file. No env file and no name: no
 * variables. A name without a file, an unknown name or a malformed file: EnvironmentError naming the file.
 */
export async function loadEnvironment(requestFilePath: string, envName?: string): Promise<{ file?: string; variables: Record<string, string> }> {
  const file = await findEnvironmentFile(requestFilePath);
  if (!file) {
    if (envName !== undefined)
      throw new EnvironmentError(`environment "${envName}": no ${ENV_FILE_NAME} in ${dirname(resolve(requestFilePath))} or any parent folder`);
    return { variables: {} };
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new EnvironmentError(`${file}: not valid JSON (${(e as Error).message})`, file);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw new EnvironmentError(`${file}: must be an object of environments, e.g. {"$shared": {...}, "sandbox": {...}}`, file);
  const envs = json as Record<string, unknown>;
  const section = (name: string): Record<string, string> => {
    const v = envs[name];
    if (v === undefined) return {};
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new EnvironmentError(`${file}: "${name}" must be an object of variables`, file);
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new EnvironmentError(`${file}: "${name}.${k}" is not a variable name (letters, digits and _)`, file);
      out[k] = valueAsText(x);
    }
    return out;
  };
  if (envName !== undefined && (envName === SHARED || !(envName in envs))) {
    const names = environmentNames(envs);
    throw new EnvironmentError(`${file}: no environment "${envName}"${names.length ? ` (it has: ${names.join(', ')})` : ''}`, file);
  }
  return { file, variables: { ...section(SHARED), ...(envName !== undefined ? section(envName) : {}) } };
}
