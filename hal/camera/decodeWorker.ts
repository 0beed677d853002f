import { parentPort, workerData } from 'node:worker_threads';
import type { QrDecoderOptions } from './qrFrameDecoder.js';
import { QrFrameDecoder } from './qrFrameDecoder.js';
import type { DecodeReply, DecodeRequest } from './decoderThread.js';

/*
 * The camera's decode thread (see decoderThread.ts): loads zxing-cpp once,
 * then decodes each frame it is sent and answers with the code and the time
 * the decode took. A decode that throws is answered with its message.
 */
const decoder = QrFrameDecoder.create(workerData as QrDecoderOptions);

parentPort!.on('message', (request: DecodeRequest) => {
  void answer(request).then((reply) => parentPort!.postMessage(reply));
});

async function answer(request: DecodeRequest): Promise<DecodeReply> {
  try {
    const ready = await decoder;
    if (request.type === 'ready') return { id: request.id, ok: true, code: undefined, decodeMs: 0 };
    const started = performance.now();
    const code = ready.decode({ width: request.width, height: request.height, data: new Uint8Array(request.pixels) });
    return { id: request.id, ok: true, code, decodeMs: performance.now() - started };
  } catch (error) {
    return { id: request.id, ok: false, reason: (error as Error)?.message ?? String(error) };
  }
}
