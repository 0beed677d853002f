/** One camera frame, 8 bits of luminance per pixel, rows top to bottom with no padding. */
export interface GreyFrame {
  readonly width: number;
  readonly height: number;
  /** width * height bytes; may be a view into a larger buffer the driver reuses. */
  readonly data: Uint8Array;
}

/** Largest frame side the decoders accept: beyond this a frame is a configuration mistake, not a camera. */
export const MAX_FRAME_SIDE = 4096;

export function frameSizeProblem(width: number, height: number): string | undefined {
  for (const [name, value] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(value) || value < 16 || value > MAX_FRAME_SIDE) return `frame ${name} ${value} is outside 16..${MAX_FRAME_SIDE}`;
  }
  return undefined;
}
