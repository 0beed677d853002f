/*
 * Numbers on EMV cards: the PAN (5A) and the identifiers inside certificates
 * are "cn", digits packed two to a byte, left-justified and padded with F.
 * Dates are "n", BCD.
 */

/**
 * The digits of a cn field: nibbles up to the first F, which must then pad
 * the field to its end. Undefined when a nibble is neither a digit nor that
 * padding.
 */
export function cnDigits(bytes: Uint8Array): string | undefined {
  let digits = '';
  let padded = false;
  for (const byte of bytes) {
    for (const nibble of [byte >> 4, byte & 0x0f]) {
      if (nibble === 0x0f) padded = true;
      else if (padded || nibble > 9) return undefined;
      else digits += String(nibble);
    }
  }
  return digits;
}

/** Whether `text` can be a PAN (ISO/IEC 7812: 8 to 19 digits). */
export function isPan(text: string): boolean {
  return /^\d{8,19}$/.test(text);
}

/** A PAN as logs and journals may show it: the first 6 and last 4 digits, the rest masked. */
export function maskPan(pan: string): string {
  // A PAN too short to hide at least two digits between 6 and 4 is hidden whole.
  if (pan.length < 12) return '*'.repeat(pan.length);
  return `${pan.slice(0, 6)}${'*'.repeat(pan.length - 10)}${pan.slice(-4)}`;
}

/** A BCD byte as its value 0..99, or undefined when a nibble is not a digit. */
export function bcdByte(byte: number): number | undefined {
  const high = byte >> 4;
  const low = byte & 0x0f;
  return high > 9 || low > 9 ? undefined : high * 10 + low;
}
