import { z } from 'zod';
import { MAX_FRAME_SIDE, type GreyFrame } from './greyFrame.js';

/**
 * The part of the camera's picture that is decoded, in pixels of the captured
 * frame: where a passenger holds a phone, leaving out the lane's floor and
 * walls. A smaller region costs less per frame; it does not add resolution.
 */
export const captureRegionSchema = z.strictObject({
  x: z.number().int().min(0).max(MAX_FRAME_SIDE),
  y: z.number().int().min(0).max(MAX_FRAME_SIDE),
  width: z.number().int().min(16).max(MAX_FRAME_SIDE),
  height: z.number().int().min(16).max(MAX_FRAME_SIDE),
});

export type CaptureRegion = z.output<typeof captureRegionSchema>;

/** Why `region` does not fit a `width` x `height` frame, or undefined when it does. */
export function regionProblem(region: CaptureRegion, width: number, height: number): string | undefined {
  if (region.x + region.width > width || region.y + region.height > height) {
    return `region ${region.width}x${region.height} at (${region.x}, ${region.y}) reaches outside the ${width}x${height} frame`;
  }
  return undefined;
}

/** The region of `frame` as a frame of its own (a copy; the whole frame itself when there is no region). */
export function cropFrame(frame: GreyFrame, region: CaptureRegion | undefined): GreyFrame {
  if (!region || (region.x === 0 && region.y === 0 && region.width === frame.width && region.height === frame.height)) return frame;
  const problem = regionProblem(region, frame.width, frame.height);
  if (problem) throw new Error(problem);
  const data = new Uint8Array(region.width * region.height);
  for (let row = 0; row < region.height; row++) {
    const from = (region.y + row) * frame.width + region.x;
    data.set(frame.data.subarray(from, from + region.width), row * region.width);
  }
  return { width: region.width, height: region.height, data };
}
