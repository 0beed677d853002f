import { BinaryBitmap, DecodeHintType, HybridBinarizer, QRCodeReader, RGBLuminanceSource } from '@zxing/library';
import type { GreyFrame } from './greyFrame.js';

export interface QrDecoderOptions {
  /** zxing's TRY_HARDER: scans every row for finder patterns instead of skipping; costs little at 640x480. */
  tryHarder: boolean;
}

/**
 * Finds and decodes one QR code in a grey frame with @zxing/library. A frame
 * without a readable code gives `undefined`: zxing signals that by throwing
 * (NotFound, Checksum, Format), and a camera frame is never worth an error.
 */
export class QrFrameDecoder {
  private readonly reader = new QRCodeReader();
  private readonly hints: Map<DecodeHintType, unknown>;

  constructor(options: QrDecoderOptions = { tryHarder: true }) {
    this.hints = new Map<DecodeHintType, unknown>(options.tryHarder ? [[DecodeHintType.TRY_HARDER, true]] : []);
  }

  decode(frame: GreyFrame): string | undefined {
    // RGBLuminanceSource takes 8-bit luminance as it is: no copy of the frame.
    const luminance = new Uint8ClampedArray(frame.data.buffer, frame.data.byteOffset, frame.width * frame.height);
    const bitmap = new BinaryBitmap(new HybridBinarizer(new RGBLuminanceSource(luminance, frame.width, frame.height)));
    try {
      return this.reader.decode(bitmap, this.hints).getText();
    } catch {
      return undefined;
    }
  }
}
