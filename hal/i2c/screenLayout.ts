import type { DisplayLine, DisplayStyle } from '../display.js';
import { Framebuffer, SCREEN_HEIGHT, SCREEN_WIDTH } from './framebuffer.js';
import { GLYPH_HEIGHT, type GlyphFont } from './glyphFont.js';

export interface TextRow {
  text: string;
  scale: 1 | 2;
}

/**
 * How the lines of a screen go onto the 128x64 panel: rows 16 px high (four on
 * the panel), each line's Chinese row(s) then its English row(s). A text wider
 * than the panel wraps (English at spaces, Chinese between any two
 * characters) rather than being cut: the end of a refusal is what the
 * passenger should do. `large` draws the first line's Chinese at double size.
 * When the rows do not fit on the panel they are split into pages, which the
 * display shows in turn; a line is kept on one page unless it alone is taller
 * than the panel.
 */
export function layoutPages(font: GlyphFont, lines: readonly DisplayLine[], style: DisplayStyle = {}): TextRow[][] {
  const blocks = lines.map((line, i) => {
    const zhScale = style.large && i === 0 ? 2 : 1;
    return [...wrap(font, line.zh, SCREEN_WIDTH / zhScale).map((text) => ({ text, scale: zhScale }) as TextRow), ...wrap(font, line.en, SCREEN_WIDTH).map((text) => ({ text, scale: 1 }) as TextRow)];
  });
  const pages: TextRow[][] = [];
  let page: TextRow[] = [];
  const heightOf = (rows: readonly TextRow[]) => rows.reduce((h, row) => h + GLYPH_HEIGHT * row.scale, 0);
  const turnPage = () => {
    if (page.length > 0) pages.push(page);
    page = [];
  };
  for (const block of blocks) {
    if (heightOf(page) + heightOf(block) > SCREEN_HEIGHT && heightOf(block) <= SCREEN_HEIGHT) turnPage();
    for (const row of block) {
      if (heightOf(page) + heightOf([row]) > SCREEN_HEIGHT) turnPage();
      page.push(row);
    }
  }
  turnPage();
  return pages.length > 0 ? pages : [[]];
}

/** Break `text` into rows at most `maxWidth` font pixels wide. */
export function wrap(font: GlyphFont, text: string, maxWidth: number): string[] {
  const rows: string[] = [];
  let row = '';
  const push = () => {
    if (row.trim() !== '') rows.push(row.trimEnd());
    row = '';
  };
  for (const unit of breakUnits(font, text)) {
    if (font.measure(row + unit) <= maxWidth) {
      if (unit !== ' ' || row !== '') row += unit;
      continue;
    }
    push();
    if (unit === ' ') continue;
    for (const char of unit) {
      if (font.measure(row + char) > maxWidth) push();
      row += char;
    }
  }
  push();
  return rows;
}

/** Words of narrow characters, single spaces, and single wide (CJK) characters: the places a row may end. */
function breakUnits(font: GlyphFont, text: string): string[] {
  const units: string[] = [];
  let word = '';
  for (const char of text) {
    if (char !== ' ' && font.glyph(char).width === 8) {
      word += char;
      continue;
    }
    if (word) units.push(word);
    word = '';
    units.push(char);
  }
  if (word) units.push(word);
  return units;
}

/** One page, centred on the panel. */
export function renderPage(font: GlyphFont, rows: readonly TextRow[], target = new Framebuffer()): Framebuffer {
  target.clear();
  const height = rows.reduce((h, row) => h + GLYPH_HEIGHT * row.scale, 0);
  let y = Math.max(0, Math.floor((SCREEN_HEIGHT - height) / 2));
  for (const row of rows) {
    const width = font.measure(row.text) * row.scale;
    target.drawText(font, row.text, Math.max(0, Math.floor((SCREEN_WIDTH - width) / 2)), y, row.scale);
    y += GLYPH_HEIGHT * row.scale;
  }
  return target;
}
