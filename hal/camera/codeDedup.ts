/**
 * The same code held in front of the camera is decoded in frame after frame;
 * the gate must see it once. A code counts again only after it has been out
 * of view (frames decoded without it) for at least `releaseFrames` frames and
 * `releaseMs` milliseconds: both, because one blurred frame of a code still in
 * view must not make it new, and neither must a stalled camera.
 */
export interface DedupOptions {
  releaseFrames: number;
  releaseMs: number;
}

export class CodeDedup {
  private held: string | undefined;
  private missingFrames = 0;
  private missingSinceMs = 0;

  constructor(private readonly options: DedupOptions) {}

  /** One decoded frame's result; returns the text when it is a new presentation. */
  see(text: string | undefined, nowMs: number): string | undefined {
    if (text !== undefined && text === this.held) {
      this.missingFrames = 0;
      return undefined;
    }
    if (text !== undefined) {
      this.held = text;
      this.missingFrames = 0;
      return text;
    }
    if (this.held === undefined) return undefined;
    if (this.missingFrames === 0) this.missingSinceMs = nowMs;
    this.missingFrames++;
    if (this.missingFrames >= this.options.releaseFrames && nowMs - this.missingSinceMs >= this.options.releaseMs) this.held = undefined;
    return undefined;
  }
}
