import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DecodedCode } from './decodedCode.js';
import type { FrameDecoding, FrameResult } from './frameDecoding.js';
import type { GreyFrame } from './greyFrame.js';
import type { QrDecoderOptions } from './qrFrameDecoder.js';

export type DecodeRequest = { type: 'ready'; id: number } | { type: 'decode'; id: number; width: number; height: number; pixels: ArrayBuffer };
export type DecodeReply = { id: number; ok: true; code: DecodedCode | undefined; decodeMs: number } | { id: number; ok: false; reason: string };

interface Waiting {
  resolve: (reply: DecodeReply & { ok: true }) => void;
  reject: (error: Error) => void;
}

/**
 * The worker's script: beside this module once built; when this module runs
 * from its TypeScript source (the tests), the build's copy, which the test
 * setup makes first (a worker thread cannot load TypeScript).
 */
function workerScript(): URL {
  const beside = new URL('./decodeWorker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  return new URL('../../dist/hal/camera/decodeWorker.js', import.meta.url);
}

/**
 * Decodes frames on a worker thread, so that a slow frame (a few ms here,
 * 3-4 times that on a Pi, more at 1280x720 and when a rescue pass runs) never
 * holds up the gate's event loop. Each frame is copied into a buffer that is
 * transferred, not cloned. A thread that dies fails the decodes it had and is
 * started afresh by the next one.
 */
export class DecoderThread implements FrameDecoding {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private closed = false;

  constructor(private readonly options: QrDecoderOptions) {}

  async ready(): Promise<void> {
    await this.send({ type: 'ready', id: this.nextId++ }, []);
  }

  async decode(frame: GreyFrame): Promise<FrameResult> {
    const size = frame.width * frame.height;
    const pixels = new ArrayBuffer(size);
    new Uint8Array(pixels).set(frame.data.subarray(0, size));
    const reply = await this.send({ type: 'decode', id: this.nextId++, width: frame.width, height: frame.height, pixels }, [pixels]);
    return { code: reply.code, decodeMs: reply.decodeMs };
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the camera decoder was stopped'));
    if (worker) await worker.terminate();
  }

  private send(request: DecodeRequest, transfer: ArrayBuffer[]): Promise<DecodeReply & { ok: true }> {
    if (this.closed) return Promise.reject(new Error('the camera decoder was stopped'));
    const worker = this.running();
    return new Promise((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      // Held while an answer is awaited, so that the process does not end under a decode.
      worker.ref();
      worker.postMessage(request, transfer);
    });
  }

  private running(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerScript(), { workerData: this.options });
    // An idle thread never keeps the process alive: the scanner that owns it stops it.
    worker.unref();
    worker.on('message', (reply: DecodeReply) => {
      const waiting = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (!waiting) return;
      if (reply.ok) waiting.resolve(reply);
      else waiting.reject(new Error(reply.reason));
    });
    const gone = (why: string): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(new Error(why));
    };
    worker.on('error', (error) => gone(`the camera decoder thread failed: ${error.message}`));
    worker.on('exit', (code) => gone(`the camera decoder thread exited (code ${code})`));
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.reject(error);
  }
}
