/** The part of node-webcam 0.8 (untyped JavaScript) the fallback camera driver uses. */
declare module 'node-webcam' {
  export interface WebcamOptions {
    width?: number;
    height?: number;
    quality?: number;
    delay?: number;
    output?: 'jpeg' | 'png' | 'bmp';
    device?: string | false;
    callbackReturn?: 'location' | 'buffer' | 'base64';
    verbose?: boolean;
    greyscale?: boolean;
    skip?: number | false;
  }
  export interface Webcam {
    capture(location: string, callback: (error: Error | null, data: unknown) => void): void;
    generateSh(location: string): string;
    /** What capture() checks in the command's stderr (fswebcam exits 0 without a camera): an Error, or null. */
    runCaptureValidations(stderr: string): Error | null;
  }
  /** CommonJS `module.exports = NodeWebcam`: under ESM it is the default export. */
  const NodeWebcam: { create(options: WebcamOptions): Webcam };
  export default NodeWebcam;
}
