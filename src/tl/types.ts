/** A TL object or method call as plain data: `_` names the constructor or method, fields are snake_case as in the schema. */
export interface TlObject {
  _: string;
  [field: string]: unknown;
}

/** One parameter of a constructor or method; `type` is the written type without the `flags.N?` prefix. */
export interface TlParam {
  name: string;
  type: string;
  flag?: { field: string; bit: number };
  comment?: string;
}

/** A constructor or method of a schema. */
export interface TlEntry {
  kind: 'constructor' | 'method';
  name: string;
  /** Unsigned 32-bit constructor id. */
  id: number;
  params: TlParam[];
  /** Result type: the boxed type a constructor builds, or what a method returns (e.g. `Vector<User>`). */
  type: string;
  comment?: string;
  throws?: { code: number; name: string; comment?: string }[];
}
