import { join } from 'node:path';
import { InputError } from '../../src/app/settingsSchema.js';
import { personaliseBankCard } from './bankCardProfile.js';
import { saveBankCard } from './bankCardFile.js';
import { capkEntry, writeCapkFile } from './capkFile.js';
import { makeCardIssuer } from './cardIssuer.js';
import { UNIONPAY_TEST_CAPK } from './publishedTestCard.js';
import { loadTestCa, makeTestCa, saveTestCa, type TestCa } from './testCa.js';

/*
 * `citygate issuer init` (its EMV part) and `citygate issuer bankcard`: test
 * CAs on disk and bank cards personalised under them, for trying a gate's
 * bank-card path by hand or from a simulator.
 */

const CA_INDEX = { RSA: 'F1', SM2: 'F2' } as const;

/** An RSA CA (1408 bits, e = 3, like UnionPay's live keys) and an SM2 CA in `dir`, and `dir/capk.json` trusting them and the published UnionPay test key. */
export function initTestCas(dir: string): void {
  const cas = [makeTestCa({ algorithm: 'RSA', index: CA_INDEX.RSA, bits: 1408, exponent: 3 }), makeTestCa({ algorithm: 'SM2', index: CA_INDEX.SM2 })];
  for (const ca of cas) saveTestCa(ca, dir);
  writeCapkFile(join(dir, 'capk.json'), [...cas.map(capkEntry), UNIONPAY_TEST_CAPK]);
}

export interface BankCardCommandOptions {
  dir: string;
  pan: string;
  psn: string;
  algorithm: string;
  expiry?: string;
  out?: string;
}

/** `bankcard`: one card under the saved CA of that algorithm, its issuer's BIN the PAN's first six digits; JSON to --out or stdout. */
export function issuerBankCard(options: BankCardCommandOptions): void {
  if (!/^\d{12,19}$/.test(options.pan)) throw new InputError(`--pan ${JSON.stringify(options.pan)}: 12 to 19 digits`);
  if (!/^[0-9]{2}$/.test(options.psn)) throw new InputError(`--psn ${JSON.stringify(options.psn)}: two digits`);
  if (options.expiry !== undefined && !/^\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/.test(options.expiry)) throw new InputError(`--expiry ${JSON.stringify(options.expiry)}: YYMMDD`);
  if (options.algorithm !== 'RSA' && options.algorithm !== 'SM2') throw new InputError('--algorithm must be RSA or SM2');
  const ca = savedCa(options.dir, CA_INDEX[options.algorithm]);
  const issuer = makeCardIssuer(ca, { bin: options.pan.slice(0, 6) });
  const image = personaliseBankCard(issuer, { pan: options.pan, psn: options.psn, ...(options.expiry ? { expiry: options.expiry } : {}) });
  if (options.out) saveBankCard(image, options.out);
  else process.stdout.write(`${JSON.stringify(image, null, 2)}\n`);
}

function savedCa(dir: string, index: string): TestCa {
  try {
    return loadTestCa(dir, index);
  } catch (error) {
    throw new InputError(`no test CA ${index} in ${dir} (run "citygate issuer init --dir ${dir}" first): ${(error as Error).message}`);
  }
}
