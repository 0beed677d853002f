import { readFile, stat } from 'node:fs/promises';
import { hexOf } from '../../hal/camera/decodedCode.js';
import { inspectImageFile } from '../../hal/camera/imageFile.js';
import { QrFrameDecoder } from '../../hal/camera/qrFrameDecoder.js';

/** One line of `citygate camera decode` (DESIGN.md §5): the code's text, or `hex` for a binary payload, or text null. */
export type CameraDecodeLine =
  | { file: string; text: string }
  | { file: string; hex: string }
  | { file: string; text: null; error?: string };

/** Larger than any camera still or phone photo: a file this big is a mistake, not an image to decode. */
const MAX_FILE_BYTES = 64 * 2 ** 20;

/**
 * Decodes still images through the camera path's own decoder and writes one
 * JSON line per file as it is done. Exit 0 when every file could be read as
 * an image (whether or not it held a code), 2 when one could not (missing,
 * not PNG or JPEG, damaged): its line says why.
 */
export async function cameraDecodeCommand(files: readonly string[], write: (line: string) => void = (line) => process.stdout.write(line)): Promise<number> {
  const decoder = await QrFrameDecoder.create({ tryHarder: true });
  let status = 0;
  for (const file of files) {
    const line = await decodeFile(decoder, file);
    if ('error' in line) status = 2;
    write(`${JSON.stringify(line)}\n`);
  }
  return status;
}

async function decodeFile(decoder: QrFrameDecoder, file: string): Promise<CameraDecodeLine> {
  let bytes: Buffer;
  try {
    const { size, isFile } = await stat(file).then((s) => ({ size: s.size, isFile: s.isFile() }));
    if (!isFile) return { file, text: null, error: 'not a file' };
    if (size > MAX_FILE_BYTES) return { file, text: null, error: `${size} bytes is larger than an image the camera decodes (${MAX_FILE_BYTES / 2 ** 20} MiB)` };
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { file, text: null, error: code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message };
  }
  const image = inspectImageFile(bytes);
  if (!image.ok) return { file, text: null, error: image.reason };
  let code;
  try {
    code = decoder.decodeImageFile(bytes);
  } catch (error) {
    return { file, text: null, error: (error as Error).message };
  }
  if (!code) return { file, text: null };
  return code.text !== undefined ? { file, text: code.text } : { file, hex: hexOf(code.bytes) };
}
