// A tiny RGB raster for plots and weight images, encoded to PNG with pngjs: pixels, filled and
// outlined rectangles, thick lines (Bresenham with a square brush), and text in the built-in 5×9
// bitmap font (font.ts), scaled by an integer, left/centre/right aligned, optionally rotated 90°
// counter-clockwise (for a y-axis label).
import { PNG } from 'pngjs';
import { GLYPH_ADVANCE, GLYPH_ASCENT, GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows } from './font.js';

export type RGB = readonly [number, number, number];

/** The text colour of the figures (charts, image grids). */
export const INK: RGB = [40, 40, 40];

export interface TextOptions {
  /** Integer pixel size of a font pixel. Default 1. */
  scale?: number;
  /** Horizontal anchor of `x` (along the text direction). Default 'left'. */
  align?: 'left' | 'center' | 'right';
  /** Vertical anchor of `y`: the top of the capitals, their middle, or the baseline. Default 'top'. */
  valign?: 'top' | 'middle' | 'baseline';
  /** Draw rotated 90° counter-clockwise (reading bottom to top). Default false. */
  vertical?: boolean;
}

export class Raster {
  /** RGBA, row-major, alpha always 255. */
  readonly data: Buffer;

  constructor(
    readonly width: number,
    readonly height: number,
    background: RGB = [255, 255, 255],
  ) {
    if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
      throw new Error(`Raster: width and height must be positive integers, got ${width}×${height}`);
    }
    this.data = Buffer.alloc(width * height * 4);
    this.fillRect(0, 0, width, height, background);
  }

  setPixel(x: number, y: number, c: RGB): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 4;
    this.data[o] = c[0];
    this.data[o + 1] = c[1];
    this.data[o + 2] = c[2];
    this.data[o + 3] = 255;
  }

  getPixel(x: number, y: number): [number, number, number] {
    const o = (y * this.width + x) * 4;
    return [this.data[o], this.data[o + 1], this.data[o + 2]];
  }

  /** Filled axis-aligned rectangle, clipped to the raster. */
  fillRect(x: number, y: number, w: number, h: number, c: RGB): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) {
      for (let xx = x0; xx < x1; xx++) {
        const o = (yy * this.width + xx) * 4;
        this.data[o] = c[0];
        this.data[o + 1] = c[1];
        this.data[o + 2] = c[2];
        this.data[o + 3] = 255;
      }
    }
  }

  /** 1-pixel outline of a rectangle. */
  strokeRect(x: number, y: number, w: number, h: number, c: RGB): void {
    this.fillRect(x, y, w, 1, c);
    this.fillRect(x, y + h - 1, w, 1, c);
    this.fillRect(x, y, 1, h, c);
    this.fillRect(x + w - 1, y, 1, h, c);
  }

  /** Line from (x0, y0) to (x1, y1), `thickness` pixels wide (square brush). */
  line(x0: number, y0: number, x1: number, y1: number, c: RGB, thickness = 1): void {
    let ax = Math.round(x0);
    let ay = Math.round(y0);
    const bx = Math.round(x1);
    const by = Math.round(y1);
    const dx = Math.abs(bx - ax);
    const dy = -Math.abs(by - ay);
    const sx = ax < bx ? 1 : -1;
    const sy = ay < by ? 1 : -1;
    let err = dx + dy;
    const lo = -Math.floor((thickness - 1) / 2);
    for (;;) {
      if (thickness <= 1) this.setPixel(ax, ay, c);
      else this.fillRect(ax + lo, ay + lo, thickness, thickness, c);
      if (ax === bx && ay === by) break;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        ax += sx;
      }
      if (e2 <= dx) {
        err += dx;
        ay += sy;
      }
    }
  }

  /** Width in pixels of `text` at `scale` (along its direction). */
  static textWidth(text: string, scale = 1): number {
    return text.length === 0 ? 0 : (text.length * GLYPH_ADVANCE - 1) * scale;
  }

  /** Height of capitals at `scale`. */
  static textHeight(scale = 1): number {
    return GLYPH_ASCENT * scale;
  }

  /** Draw `text` anchored at (x, y); see TextOptions. */
  text(x: number, y: number, text: string, c: RGB, opts: TextOptions = {}): void {
    const scale = opts.scale ?? 1;
    const width = Raster.textWidth(text, scale);
    const along = opts.align === 'center' ? -width / 2 : opts.align === 'right' ? -width : 0;
    const across = opts.valign === 'middle' ? -Raster.textHeight(scale) / 2 : opts.valign === 'baseline' ? -Raster.textHeight(scale) : 0;
    // (u, v): position along the text and down across it, in pixels from the anchor
    const put = (u: number, v: number) => {
      if (opts.vertical) this.fillRect(x + v + across, y - u - along - scale, scale, scale, c);
      else this.fillRect(x + u + along, y + v + across, scale, scale, c);
    };
    for (let i = 0; i < text.length; i++) {
      const rows = glyphRows(text[i]);
      for (let r = 0; r < GLYPH_HEIGHT; r++) {
        const mask = rows[r];
        if (mask === 0) continue;
        for (let col = 0; col < GLYPH_WIDTH; col++) {
          if (mask & (1 << (GLYPH_WIDTH - 1 - col))) put((i * GLYPH_ADVANCE + col) * scale, r * scale);
        }
      }
    }
  }

  /** Encode as PNG (RGBA, 8 bits per channel). */
  toPNG(): Buffer {
    const png = new PNG({ width: this.width, height: this.height });
    this.data.copy(png.data);
    return PNG.sync.write(png);
  }
}
