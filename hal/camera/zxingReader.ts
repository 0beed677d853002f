/// <reference types="emscripten" />
// zxing-wasm's module type extends Emscripten's (its own dependency @types/emscripten), which tsconfig's `types` leaves out.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import {
  BINARIZERS,
  CHARACTER_SETS,
  CONTENT_TYPES,
  EAN_ADD_ON_SYMBOLS,
  TEXT_MODES,
  defaultReaderOptions,
  encodeFormats,
  prepareZXingModule,
  type ReaderOptions,
  type ZXingReaderModule,
  type ZXingReaderOptions,
  type ZXingReadResult,
} from 'zxing-wasm/reader';
import type { GreyFrame } from './greyFrame.js';

/*
 * zxing-cpp (npm zxing-wasm, the reader-only build) loaded from this
 * installation's own files: the package would otherwise fetch its .wasm from a
 * CDN, and a gate has no network. Frames go in as 8-bit luminance through the
 * module's pixmap entry point (no RGBA copy); encoded images (PNG, JPEG) go in
 * as bytes and are decoded by the stb_image inside the module.
 */

/** What one zxing-cpp result says, in the few fields the camera path uses. */
export interface ZxingSymbol {
  valid: boolean;
  /** Why an invalid symbol did not decode (zxing-cpp's words), or ''. */
  error: string;
  /** zxing-cpp's content type: `Binary` is a payload that is not text in any character set. */
  contentType: (typeof CONTENT_TYPES)[number] | 'unknown';
  text: string;
  bytes: Uint8Array;
}

let loading: Promise<ZXingReaderModule> | undefined;

/** The module, instantiated once per thread from node_modules/zxing-wasm/dist/reader/zxing_reader.wasm. */
export function loadZxing(): Promise<ZXingReaderModule> {
  loading ??= (async () => {
    const path = createRequire(import.meta.url).resolve('zxing-wasm/reader/zxing_reader.wasm');
    const file = await readFile(path);
    const wasmBinary = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer;
    // Emscripten logs a failed instantiation before it throws: the throw is what the caller reports.
    return prepareZXingModule({ overrides: { wasmBinary, print: () => {}, printErr: () => {} }, fireImmediately: true });
  })().catch((error: unknown) => {
    loading = undefined;
    throw new Error(`zxing-wasm cannot be loaded: ${(error as Error)?.message ?? String(error)}`);
  });
  return loading;
}

/** The module's own option record from the package's public option names (its encoders are internal). */
export function zxingOptions(options: ReaderOptions): ZXingReaderOptions {
  const all = { ...defaultReaderOptions, ...options };
  return {
    ...all,
    formats: encodeFormats(all.formats),
    binarizer: BINARIZERS.indexOf(all.binarizer),
    eanAddOnSymbol: EAN_ADD_ON_SYMBOLS.indexOf(all.eanAddOnSymbol),
    textMode: TEXT_MODES.indexOf(all.textMode),
    characterSet: CHARACTER_SETS.indexOf(all.characterSet),
  };
}

/**
 * One zxing-cpp module with a heap buffer kept for frames, so that a frame
 * costs one copy into the module and no allocation.
 */
export class ZxingReader {
  private buffer = 0;
  private capacity = 0;

  constructor(private readonly module: ZXingReaderModule) {}

  static async create(): Promise<ZxingReader> {
    return new ZxingReader(await loadZxing());
  }

  /** Reads a grey frame (`data` is width * height bytes). */
  readFrame(frame: GreyFrame, options: ZXingReaderOptions): ZxingSymbol[] {
    const size = frame.width * frame.height;
    if (size > this.capacity) {
      if (this.buffer) this.module._free(this.buffer);
      this.buffer = this.module._malloc(size);
      if (!this.buffer) throw new Error(`zxing-wasm could not allocate ${size} bytes for a frame`);
      this.capacity = size;
    }
    this.module.HEAPU8.set(frame.data.subarray(0, size), this.buffer);
    return symbolsOf(this.module.readBarcodesFromPixmap(this.buffer, frame.width, frame.height, options));
  }

  /** Reads an encoded image file (PNG, JPEG, ... as stb_image knows them); throws when the image cannot be loaded. */
  readImageFile(file: Uint8Array, options: ZXingReaderOptions): ZxingSymbol[] {
    if (file.byteLength === 0) throw new Error('the image file is empty');
    const pointer = this.module._malloc(file.byteLength);
    if (!pointer) throw new Error(`zxing-wasm could not allocate ${file.byteLength} bytes for an image`);
    let symbols: ZxingSymbol[];
    try {
      this.module.HEAPU8.set(file, pointer);
      symbols = symbolsOf(this.module.readBarcodesFromImage(pointer, file.byteLength, options));
    } finally {
      this.module._free(pointer);
    }
    // A file stb_image cannot decode comes back as one invalid result saying so, not as an exception.
    const unloadable = symbols.find((s) => /failed to load image/i.test(s.error));
    if (unloadable) throw new Error(`the image cannot be decoded (${unloadable.error}): a damaged file, or a kind other than PNG or JPEG`);
    return symbols;
  }
}

function symbolsOf(vector: { size(): number; get(i: number): ZXingReadResult | undefined; delete(): void }): ZxingSymbol[] {
  try {
    const symbols: ZxingSymbol[] = [];
    for (let i = 0; i < vector.size(); i++) {
      const result = vector.get(i);
      if (!result) continue;
      symbols.push({
        valid: result.isValid && !result.error,
        error: result.error ?? '',
        contentType: CONTENT_TYPES[result.contentType] ?? 'unknown',
        text: result.text ?? '',
        // A copy: the result's bytes may be a view of the module's memory. An image that failed to load has none.
        bytes: result.bytes ? Uint8Array.from(result.bytes) : new Uint8Array(0),
      });
    }
    return symbols;
  } finally {
    vector.delete();
  }
}
