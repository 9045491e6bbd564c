// One lenient TlCodec per served API layer (bundled layer 227 plus any extra .tl schema), created on first use.
// Lenient: handlers build layer-227 objects and the codec of an older layer zero-fills fields it requires that
// the object lacks and drops fields it does not know.
import { API_LAYER, fullSchema, schemaFromTlText } from '../tl/bundled';
import { TlCodec } from '../tl/codec';
import type { TlSchema } from '../tl/schema';

export interface ExtraSchema {
  layer: number;
  text: string;
}

export class LayerCodecs {
  private readonly schemas = new Map<number, () => TlSchema>();
  private readonly codecs = new Map<number, TlCodec>();

  constructor(extra: ExtraSchema[] = []) {
    this.schemas.set(API_LAYER, fullSchema);
    for (const e of extra) {
      if (!Number.isInteger(e.layer) || e.layer <= 0) throw new RangeError(`schema layer must be a positive integer, got ${e.layer}`);
      // Parse now so a broken .tl file fails at start, not at the first client of that layer.
      const schema = schemaFromTlText(e.text, e.layer);
      this.schemas.set(e.layer, () => schema);
    }
  }

  /** The layers served, ascending. */
  layers(): number[] {
    return [...this.schemas.keys()].sort((a, b) => a - b);
  }

  /**
   * The layer that serves a client asking for `requested`: that layer when served, else the highest served layer
   * below it, else the lowest served layer.
   */
  resolve(requested: number): number {
    const layers = this.layers();
    if (this.schemas.has(requested)) return requested;
    const below = layers.filter((l) => l < requested);
    return below.length ? below[below.length - 1]! : layers[0]!;
  }

  codecFor(requested: number): TlCodec {
    const layer = this.resolve(requested);
    let codec = this.codecs.get(layer);
    if (!codec) {
      codec = new TlCodec(this.schemas.get(layer)!(), { lenient: true });
      this.codecs.set(layer, codec);
    }
    return codec;
  }
}
