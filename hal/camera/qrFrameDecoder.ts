import type { ZXingReaderOptions } from 'zxing-wasm/reader';
import { cropFrame, type CaptureRegion } from './captureRegion.js';
import type { DecodedCode } from './decodedCode.js';
import type { GreyFrame } from './greyFrame.js';
import { decodePngToGrey } from './pngGrey.js';
import { sharpened } from './sharpen.js';
import { ZxingReader, zxingOptions, type ZxingSymbol } from './zxingReader.js';

export interface QrDecoderOptions {
  /** zxing-cpp's tryHarder: denser scanning for finder patterns; off only to save CPU on a very slow board. */
  tryHarder: boolean;
  /** Decode only this part of each frame (the whole frame when absent). */
  region?: CaptureRegion | undefined;
}

/**
 * Finds and decodes one QR code in a grey frame with zxing-cpp (zxing-wasm),
 * in the passes that measured best on the project's fixtures
 * (bench/cameraRecall.ts, README "Camera"):
 *
 * 1. zxing-cpp's own best settings: tryHarder, tryRotate, tryInvert (dark
 *    mode), tryDownscale, the local-average binarizer, every QR symbol in the
 *    frame. A frame in which it finds nothing that looks like a code ends
 *    here: a frame without a code costs one pass.
 * 2. Only when pass 1 found a symbol it could not decode: the frame
 *    downscaled by 2 (averaging out a dim lane's sensor noise), then the
 *    frame sharpened (undoing focus blur).
 *
 * A symbol counts only when its Reed-Solomon check passed; the first such
 * symbol is the result. Decoding is synchronous and takes a few milliseconds:
 * the camera drivers run it on a worker thread (decoderThread.ts).
 */
export class QrFrameDecoder {
  private readonly first: ZXingReaderOptions;
  private readonly downscaled: ZXingReaderOptions;
  private readonly plain: ZXingReaderOptions;

  private constructor(
    private readonly reader: ZxingReader,
    private readonly options: QrDecoderOptions,
  ) {
    const common = { formats: ['QRCode' as const], tryHarder: options.tryHarder, tryRotate: true, tryInvert: true, tryDownscale: true, textMode: 'Plain' as const };
    this.first = zxingOptions({ ...common, returnErrors: true });
    this.downscaled = zxingOptions({ ...common, downscaleFactor: 2, downscaleThreshold: 200 });
    this.plain = zxingOptions(common);
  }

  /** Loads zxing-cpp (once per thread) and makes a decoder. */
  static async create(options: QrDecoderOptions = { tryHarder: true }): Promise<QrFrameDecoder> {
    return new QrFrameDecoder(await ZxingReader.create(), options);
  }

  /** The code in the configured region of a camera frame. */
  decode(frame: GreyFrame): DecodedCode | undefined {
    return this.decodeWhole(cropFrame(frame, this.options.region));
  }

  private decodeWhole(view: GreyFrame): DecodedCode | undefined {
    const first = this.reader.readFrame(view, this.first);
    const found = firstValid(first);
    if (found || !first.some((symbol) => !symbol.valid)) return found;
    return firstValid(this.reader.readFrame(view, this.downscaled)) ?? firstValid(this.reader.readFrame(sharpened(view), this.plain));
  }

  /**
   * Decodes a still image file. A PNG the camera path's own reader takes goes
   * through decode() as a frame; any other PNG, and JPEG, is decoded to grey by
   * zxing-cpp's image loader and gets the passes that need no pixels here
   * (1 and the downscaled one). The camera's region does not apply to a file.
   */
  decodeImageFile(file: Uint8Array): DecodedCode | undefined {
    const png = decodePngToGrey(file);
    if (png.ok) return this.decodeWhole(png.frame);
    const first = this.reader.readImageFile(file, this.first);
    const found = firstValid(first);
    if (found || !first.some((symbol) => !symbol.valid)) return found;
    return firstValid(this.reader.readImageFile(file, this.downscaled));
  }
}

function firstValid(symbols: ZxingSymbol[]): DecodedCode | undefined {
  const symbol = symbols.find((s) => s.valid);
  if (!symbol) return undefined;
  return { text: symbol.contentType === 'Binary' ? undefined : symbol.text, bytes: symbol.bytes };
}
