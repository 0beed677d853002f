import { z } from 'zod';

/*
 * Everything a simulated qPBOC card holds, as plain JSON (hex strings), so a
 * personalised card can be written to a file and loaded by a simulator.
 */

const hexString = z.string().regex(/^(?:[0-9A-Fa-f]{2})*$/, 'hex, whole bytes');

const applicationSchema = z.object({
  aid: hexString,
  /** Application label `50` (ASCII). */
  label: z.string(),
  /** Application priority indicator `87`. */
  priority: z.number().int().min(1).max(15),
  /** `9F38` */
  pdol: hexString,
});

export const bankCardImageSchema = z.object({
  atr: hexString,
  /** Whether the card answers SELECT 2PAY.SYS.DDF01. */
  ppse: z.boolean(),
  applications: z.array(applicationSchema).min(1),
  /** What GET PROCESSING OPTIONS returns besides the dynamic data: `82`, `94`, `9F10`. */
  gpo: z.object({ aip: hexString, afl: hexString, iad: hexString }),
  /** Each record as READ RECORD returns it: the whole `70` template. */
  records: z.array(z.object({ sfi: z.number().int().min(1).max(30), record: z.number().int().min(1).max(255), template: hexString })),
  /** `57`, `5F34`, `9F6C`, `9F5D` as the GPO answer carries them. */
  track2: hexString,
  psn: hexString,
  ctq: hexString,
  offlineSpending: hexString,
  /** The ATC `9F36` before the next transaction (two bytes). */
  atc: hexString.length(4),
  /** `9F69` as the records carry it: with first byte 01 the card signs for fDDA version 01. */
  cardAuthData: hexString.optional(),
  iccKey: z.discriminatedUnion('algorithm', [
    z.object({ algorithm: z.literal('RSA'), privateKey: z.looseObject({}) }),
    z.object({ algorithm: z.literal('SM2'), privateKey: z.string().regex(/^[0-9a-f]{64}$/) }),
  ]),
  /** Key of the application cryptogram `9F26` (an HMAC here: no back office checks it). */
  acKey: hexString,
  /** Answer every command with 61xx, and every GET RESPONSE with more 61xx, for ever. */
  chatty: z.boolean().optional(),
});

export type BankCardImage = z.infer<typeof bankCardImageSchema>;
export type BankApplication = z.infer<typeof applicationSchema>;
