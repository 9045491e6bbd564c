// An immutable set of TL entries with fast lookups by id, by name and by result type.
import type { TlEntry } from './types';

export class TlSchema {
  readonly layer: number;
  readonly entries: TlEntry[];
  private readonly ids = new Map<number, TlEntry>();
  private readonly ctors = new Map<string, TlEntry>();
  private readonly methods = new Map<string, TlEntry>();
  private readonly byType = new Map<string, TlEntry[]>();

  constructor(entries: TlEntry[], layer: number) {
    this.layer = layer;
    // later entries override same-name (same kind) ones
    const ctors = new Map<string, TlEntry>();
    const methods = new Map<string, TlEntry>();
    for (const e of entries) (e.kind === 'method' ? methods : ctors).set(e.name, e);
    const kept = new Set<TlEntry>([...ctors.values(), ...methods.values()]);
    this.entries = entries.filter((e) => kept.has(e));
    this.ctors = ctors;
    this.methods = methods;
    for (const e of this.entries) {
      this.ids.set(e.id >>> 0, e);
      if (e.kind === 'constructor') {
        let list = this.byType.get(e.type);
        if (!list) this.byType.set(e.type, (list = []));
        list.push(e);
      }
    }
  }

  byId(id: number): TlEntry | undefined {
    return this.ids.get(id >>> 0);
  }

  constructorByName(name: string): TlEntry | undefined {
    return this.ctors.get(name);
  }

  methodByName(name: string): TlEntry | undefined {
    return this.methods.get(name);
  }

  /** Constructor or method by name (constructors first). */
  byName(name: string): TlEntry | undefined {
    return this.ctors.get(name) ?? this.methods.get(name);
  }

  /** The constructors whose result type is `type` (boxed type name, e.g. `User`, `auth.SentCode`). */
  constructorsOfType(type: string): TlEntry[] {
    return this.byType.get(type) ?? [];
  }

  /** Whether `type` is a boxed type some constructor builds. */
  hasType(type: string): boolean {
    return this.byType.has(type);
  }

  /** A new schema with `entries` added over this one's (same-name entries replaced). */
  extend(entries: TlEntry[], layer?: number): TlSchema {
    return new TlSchema([...this.entries, ...entries], layer ?? this.layer);
  }
}
