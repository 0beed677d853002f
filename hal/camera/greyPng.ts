import { crc32, deflateSync } from 'node:zlib';
import type { GreyFrame } from './greyFrame.js';

/** A grey frame as an 8-bit greyscale PNG (rows with the Up filter, deflated): a frame saved for a technician to look at. */
export function encodeGreyPng(frame: GreyFrame): Buffer {
  const { width, height, data } = frame;
  const rows = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    const at = y * (width + 1);
    rows[at] = 2;
    for (let x = 0; x < width; x++) rows[at + 1 + x] = (data[y * width + x]! - (y > 0 ? data[(y - 1) * width + x]! : 0)) & 0xff;
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
