import { z } from 'zod';
import { Sm2KeyError, Sm2PublicKey } from '../../crypto/sm2.js';

/**
 * The trust list's `transport` object (DESIGN.md §5): the root CAs of
 * transport QR codes by index, and the issuers (issuer id as in the issuer
 * certificate) the gate takes; without `issuers`, every issuer a listed root
 * certified.
 */
export const transportTrustSchema = z.object({
  roots: z.array(
    z.object({
      index: z.number().int().min(0).max(255),
      algorithm: z.literal('SM2'),
      publicKey: z.string().regex(/^(?:04[0-9A-Fa-f]{128}|0[23][0-9A-Fa-f]{64})$/, 'publicKey must be hex of 04||X||Y (65 bytes) or 02/03||X (33 bytes)'),
    }),
  ),
  issuers: z.array(z.string().regex(/^[0-9A-Fa-f]{8}$/, 'an issuer id is 4 bytes: 8 hex digits')).optional(),
});

export type TransportTrustDocument = z.infer<typeof transportTrustSchema>;

/** The trust list's transport object, ready for lookups on the tap path. */
export class TransportTrust {
  private constructor(
    private readonly roots: ReadonlyMap<number, Sm2PublicKey>,
    private readonly issuers: ReadonlySet<string> | undefined,
  ) {}

  /** Throws an Error naming the entry for a duplicate index or a key that is not a point of the curve. */
  static fromDocument(document: TransportTrustDocument): TransportTrust {
    const roots = new Map<number, Sm2PublicKey>();
    document.roots.forEach((root, i) => {
      if (roots.has(root.index)) throw new Error(`roots[${i}]: index ${root.index} appears twice`);
      try {
        // Root keys verify every new issuer certificate: worth their multiplication tables, and checked on the curve now.
        roots.set(root.index, Sm2PublicKey.fixed(Uint8Array.from(Buffer.from(root.publicKey, 'hex'))));
      } catch (error) {
        if (error instanceof Sm2KeyError) throw new Error(`roots[${i}]: ${error.message}`);
        throw error;
      }
    });
    return new TransportTrust(roots, document.issuers && new Set(document.issuers.map((id) => id.toUpperCase())));
  }

  root(index: number): Sm2PublicKey | undefined {
    return this.roots.get(index);
  }

  /** `issuerId` as 8 upper-case hex digits. */
  issuerAllowed(issuerId: string): boolean {
    return this.issuers === undefined || this.issuers.has(issuerId);
  }
}
