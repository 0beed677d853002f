import type { BankApplication } from './bankCardImage.js';
import { hex, tlv } from './tlvEncoder.js';

/** The name of the proximity payment system environment, "2PAY.SYS.DDF01". */
export const PPSE_NAME = Buffer.from('2PAY.SYS.DDF01', 'ascii');

/** The PPSE's FCI: one directory entry `61` {4F, 50, 87} per application (EMV Book B §3.3). */
export function ppseFci(applications: readonly BankApplication[]): Buffer {
  const entries = applications.map((app) => tlv('61', tlv('4F', hex(app.aid)), label(app), tlv('87', Buffer.from([app.priority]))));
  return tlv('6F', tlv('84', PPSE_NAME), tlv('A5', tlv('BF0C', ...entries)));
}

/** An application's FCI: label, priority, the PDOL and the log entry the published card carries. */
export function applicationFci(app: BankApplication): Buffer {
  const proprietary = tlv('A5', label(app), tlv('87', Buffer.from([app.priority])), tlv('9F38', hex(app.pdol)), tlv('BF0C', tlv('9F4D', hex('0B0A'))));
  return tlv('6F', tlv('84', hex(app.aid)), proprietary);
}

function label(app: BankApplication): Buffer {
  return tlv('50', Buffer.from(app.label, 'ascii'));
}
