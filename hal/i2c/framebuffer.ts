import { GLYPH_HEIGHT, type GlyphFont } from './glyphFont.js';

export const SCREEN_WIDTH = 128;
export const SCREEN_HEIGHT = 64;
export const PAGES = SCREEN_HEIGHT / 8;

/**
 * A 1-bit 128x64 image in the SSD1306's own memory layout: 8 pages of 128
 * bytes, each byte a column of 8 pixels with the top one in bit 0, so a page
 * goes to the panel as it is.
 */
export class Framebuffer {
  readonly bytes = new Uint8Array(SCREEN_WIDTH * PAGES);

  clear(): void {
    this.bytes.fill(0);
  }

  set(x: number, y: number): void {
    if (x < 0 || y < 0 || x >= SCREEN_WIDTH || y >= SCREEN_HEIGHT) return;
    this.bytes[(y >> 3) * SCREEN_WIDTH + x]! |= 1 << (y & 7);
  }

  get(x: number, y: number): boolean {
    return ((this.bytes[(y >> 3) * SCREEN_WIDTH + x]! >> (y & 7)) & 1) === 1;
  }

  page(index: number): Uint8Array {
    return this.bytes.subarray(index * SCREEN_WIDTH, (index + 1) * SCREEN_WIDTH);
  }

  /** Draw `text` with its top-left corner at (x, y), each font pixel `scale` screen pixels; clipped at the edges. */
  drawText(font: GlyphFont, text: string, x: number, y: number, scale: number): void {
    let left = x;
    for (const char of text) {
      const glyph = font.glyph(char);
      for (let row = 0; row < GLYPH_HEIGHT; row++) {
        const bits = glyph.rows[row]!;
        for (let col = 0; col < glyph.width; col++) {
          if (((bits >> (glyph.width - 1 - col)) & 1) === 0) continue;
          for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) this.set(left + col * scale + dx, y + row * scale + dy);
        }
      }
      left += glyph.width * scale;
    }
  }

  /** The screen as text, '#' for a lit pixel: for a technician's log and for tests. */
  toAscii(): string {
    const lines: string[] = [];
    for (let y = 0; y < SCREEN_HEIGHT; y++) {
      let line = '';
      for (let x = 0; x < SCREEN_WIDTH; x++) line += this.get(x, y) ? '#' : '.';
      lines.push(line);
    }
    return lines.join('\n');
  }
}
