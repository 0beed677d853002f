/*
 * The recorded camera frames of test/fixtures/frames (made by makeFrames.mjs):
 * their manifest, and each frame read through the driver's own PNG reader.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GreyFrame } from '../../hal/camera/greyFrame.js';
import { decodePngToGrey } from '../../hal/camera/pngGrey.js';

export const FRAMES_DIR = join(import.meta.dirname, '..', 'fixtures', 'frames');

export interface RecordedFrame {
  file: string;
  /** The code text the frame shows, or null when it must decode to nothing. */
  text: string | null;
  about: string;
}

export const MANIFEST: { width: number; height: number; frames: RecordedFrame[] } = JSON.parse(readFileSync(join(FRAMES_DIR, 'frames.json'), 'utf8'));

/** Grey frames of the camera stream (the fswebcam still is a different source). */
export const STREAM_FRAMES = MANIFEST.frames.filter((frame) => frame.file !== 'fswebcam-still.png');

export function loadFrame(file: string): GreyFrame {
  const result = decodePngToGrey(readFileSync(join(FRAMES_DIR, file)));
  if (!result.ok) throw new Error(`${file}: ${result.reason}`);
  return result.frame;
}

/** Frames one after another as a capture command writes them: raw GRAY8, no headers. */
export function rawStream(files: readonly string[]): Buffer {
  return Buffer.concat(files.map((file) => loadFrame(file).data));
}
