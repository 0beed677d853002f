/*
 * BER-TLV as EMV Book 3 Annex B writes it, for the simulated bank card's
 * answers. The sim has its own encoder (not the gate's parser) so that a
 * mistake in one is not mirrored by the other.
 */

/** One data object: `tag` in hex as printed in the specs ("9F4B"), the value (or the concatenation of several: a template's contents). */
export function tlv(tag: string, ...values: Uint8Array[]): Buffer {
  const value = Buffer.concat(values);
  return Buffer.concat([Buffer.from(tag, 'hex'), berLength(value.length), value]);
}

/** A definite length: one byte below 128, else 81 xx or 82 xx xx. */
function berLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length <= 0xff) return Buffer.from([0x81, length]);
  if (length <= 0xffff) return Buffer.from([0x82, length >> 8, length & 0xff]);
  throw new RangeError(`TLV value of ${length} bytes`);
}

/** A hex string as bytes, refusing anything that is not whole bytes of hex (a typo in test data must not pass silently). */
export function hex(text: string): Buffer {
  if (!/^(?:[0-9A-Fa-f]{2})*$/.test(text)) throw new Error(`not hex: ${JSON.stringify(text)}`);
  return Buffer.from(text, 'hex');
}
