import glyphFile from './font/glyphs.json' with { type: 'json' };

/** One bitmap character: 16 rows, each a bit row with the leftmost pixel in the top bit of `width`. */
export interface Glyph {
  width: 8 | 16;
  rows: readonly number[];
}

export const GLYPH_HEIGHT = 16;

/** Shown for a character the subset lacks: visible, so a missing glyph is noticed, not silently blank. */
const BOX: Glyph = { width: 8, rows: [0, 0x7e, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x7e, 0] };

/** Glyphs from Unifont's .hex lines: 32 hex digits for 8x16, 64 for 16x16. */
export class GlyphFont {
  private readonly glyphs = new Map<string, Glyph>();

  constructor(hexByChar: Readonly<Record<string, string>>) {
    for (const [char, hex] of Object.entries(hexByChar)) {
      const width = hex.length === 64 ? 16 : 8;
      const digits = width / 4;
      const rows = Array.from({ length: GLYPH_HEIGHT }, (_, i) => parseInt(hex.slice(i * digits, (i + 1) * digits), 16));
      this.glyphs.set(char, { width, rows });
    }
  }

  has(char: string): boolean {
    return this.glyphs.has(char);
  }

  glyph(char: string): Glyph {
    return this.glyphs.get(char) ?? BOX;
  }

  /** Width in pixels of `text` at scale 1. */
  measure(text: string): number {
    let width = 0;
    for (const char of text) width += this.glyph(char).width;
    return width;
  }
}

/** The subset of GNU Unifont the gate's messages use (regenerate with scripts/make-glyphs.mjs). */
export const GATE_FONT = new GlyphFont(glyphFile.glyphs as Record<string, string>);
