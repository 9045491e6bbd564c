// Argument parsing for the dclab commands: `--flag value`, `--flag=value`, boolean switches, repeated flags and
// positionals. Every mistake is a UsageError (exit code 2) whose message names the flag and the expected value.

export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose usage text should follow the message. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export type FlagKind = 'string' | 'int' | 'boolean' | 'list';

export interface FlagSpec {
  kind: FlagKind;
  /** What the value should look like, for error messages (e.g. 'a DC id 1..65535'). */
  value?: string;
  min?: number;
  max?: number;
  /** Accepted values (string flags). */
  choices?: readonly string[];
}

export type FlagSpecs = Record<string, FlagSpec>;

export interface ParsedArgs {
  flags: Map<string, string | number | boolean | string[]>;
  positionals: string[];
}

/**
 * Parses `argv` against `specs` (flag names with their leading `--`). `-h`/`--help` is always accepted and
 * recorded as `--help`. A lone `--` ends the flags.
 */
export function parseArgs(command: string, argv: readonly string[], specs: FlagSpecs, opts: { maxPositionals?: number } = {}): ParsedArgs {
  const flags: ParsedArgs['flags'] = new Map();
  const positionals: string[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    if (onlyPositionals || !raw.startsWith('-') || raw === '-' || /^-\d/.test(raw)) {
      positionals.push(raw);
      continue;
    }
    if (raw === '--') {
      onlyPositionals = true;
      continue;
    }
    if (raw === '-h' || raw === '--help') {
      flags.set('--help', true);
      continue;
    }
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const name = eq > 0 ? raw.slice(0, eq) : raw;
    const spec = specs[name];
    if (!spec) {
      const known = Object.keys(specs).sort();
      const near = known.filter((k) => k.includes(name.replace(/^-+/, '')) || name.includes(k.replace(/^-+/, '')));
      throw new UsageError(`unknown option ${name}${near.length ? ` (did you mean ${near.join(' or ')}?)` : ''}`, command);
    }
    if (spec.kind === 'boolean') {
      if (eq > 0) throw new UsageError(`${name} takes no value (got "${raw.slice(eq + 1)}")`, command);
      flags.set(name, true);
      continue;
    }
    let value: string | undefined;
    if (eq > 0) value = raw.slice(eq + 1);
    else {
      value = argv[i + 1];
      // `--data-dir --profile` is a missing value, not a directory named "--profile"
      if (value?.startsWith('--') && value.length > 2) value = undefined;
      else i++;
    }
    const expected = spec.value ?? (spec.kind === 'int' ? 'an integer' : 'a value');
    if (value === undefined || value === '') throw new UsageError(`${name} needs ${expected}`, command);
    switch (spec.kind) {
      case 'int': {
        if (!/^-?\d+$/.test(value)) throw new UsageError(`${name} needs ${expected}, got "${value}"`, command);
        const n = Number(value);
        if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
          throw new UsageError(`${name} needs ${expected}, got ${n}`, command);
        }
        if (flags.has(name)) throw new UsageError(`${name} given twice`, command);
        flags.set(name, n);
        break;
      }
      case 'string':
        if (spec.choices && !spec.choices.includes(value)) throw new UsageError(`${name} needs one of ${spec.choices.join(', ')}, got "${value}"`, command);
        if (flags.has(name)) throw new UsageError(`${name} given twice`, command);
        flags.set(name, value);
        break;
      case 'list': {
        const list = (flags.get(name) as string[] | undefined) ?? [];
        list.push(value);
        flags.set(name, list);
        break;
      }
    }
  }
  if (opts.maxPositionals !== undefined && positionals.length > opts.maxPositionals) {
    const extra = positionals.slice(opts.maxPositionals);
    throw new UsageError(`unexpected argument${extra.length > 1 ? 's' : ''}: ${extra.map((x) => JSON.stringify(x)).join(' ')}`, command);
  }
  return { flags, positionals };
}

export function flagString(p: ParsedArgs, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function flagInt(p: ParsedArgs, name: string): number | undefined {
  const v = p.flags.get(name);
  return typeof v === 'number' ? v : undefined;
}

export function flagBool(p: ParsedArgs, name: string): boolean {
  return p.flags.get(name) === true;
}

export function flagList(p: ParsedArgs, name: string): string[] {
  const v = p.flags.get(name);
  return Array.isArray(v) ? v : [];
}
