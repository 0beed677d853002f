/*
 * A stand-in for a camera capture command (ffmpeg -f v4l2 ... -f rawvideo -):
 * writes recorded raw frames to stdout, in a loop, at a frame rate, in the
 * chunk sizes a pipe gives. Used by the camera tests as the real byte path.
 *
 *   node frameSource.mjs --frames FILE --frame-bytes N --fps F
 *        [--count N]            stop after N frames
 *        [--exit-code C]        then exit with C (default 0)
 *        [--stderr TEXT]        and print TEXT on stderr first
 *        [--hang]               after --count frames, stay alive writing nothing
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    frames: { type: 'string' },
    'frame-bytes': { type: 'string' },
    fps: { type: 'string', default: '30' },
    count: { type: 'string' },
    'exit-code': { type: 'string', default: '0' },
    stderr: { type: 'string' },
    hang: { type: 'boolean', default: false },
  },
});
const recorded = readFileSync(values.frames);
const frameBytes = Number(values['frame-bytes']);
const frames = recorded.length / frameBytes;
if (!Number.isInteger(frames) || frames < 1) throw new Error(`${values.frames}: ${recorded.length} bytes is not a whole number of ${frameBytes}-byte frames`);
const count = values.count === undefined ? Number.POSITIVE_INFINITY : Number(values.count);
const periodMs = 1000 / Number(values.fps);

let sent = 0;
function next() {
  if (sent >= count) {
    if (values.hang) return setInterval(() => {}, 60_000);
    if (values.stderr) process.stderr.write(`${values.stderr}\n`);
    process.stdout.end(() => process.exit(Number(values['exit-code'])));
    return undefined;
  }
  const index = sent % frames;
  sent++;
  // Written in two pieces: a reader must put frames together across chunks.
  const frame = recorded.subarray(index * frameBytes, (index + 1) * frameBytes);
  process.stdout.write(frame.subarray(0, 1000));
  const drained = process.stdout.write(frame.subarray(1000));
  const wait = () => setTimeout(next, periodMs);
  return drained ? wait() : process.stdout.once('drain', wait);
}
process.stdout.on('error', () => process.exit(0));
next();
