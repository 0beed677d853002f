import type { DisplayLine } from '../../hal/display.js';
import type { Category } from './credentials/credential.js';
import type { RefusalReason } from './reasons.js';

/** What the passenger reads for each refusal: short, and saying what to do next. */
const REFUSAL_TEXT: Record<RefusalReason, DisplayLine> = {
  malformed: { zh: '无法识别，请重试', en: 'Not recognised, try again' },
  'unknown-issuer': { zh: '本闸机不支持此卡码', en: 'Card or code not accepted here' },
  'unknown-key': { zh: '本闸机不支持此卡码', en: 'Card or code not accepted here' },
  'bad-signature': { zh: '无效卡码', en: 'Invalid card or code' },
  'not-yet-valid': { zh: '尚未生效', en: 'Not valid yet' },
  expired: { zh: '已过期，请刷新', en: 'Expired, please refresh' },
  stale: { zh: '乘车码已过期，请刷新', en: 'Code too old, please refresh' },
  replayed: { zh: '此码已使用', en: 'Code already used' },
  'deny-listed': { zh: '此卡码已停用，请咨询工作人员', en: 'Blocked, please ask staff' },
  'wrong-site': { zh: '非本站点票', en: 'Ticket for another site' },
  'wrong-zone': { zh: '非本区域票', en: 'Ticket for another zone' },
  'outside-window': { zh: '不在有效时段', en: 'Outside the valid time' },
  'entries-used': { zh: '次数已用完', en: 'No entries left' },
  'category-not-allowed': { zh: '此卡类型不可通行', en: 'Not valid at this gate' },
  'card-removed': { zh: '请将卡片放稳', en: 'Hold the card still' },
  'card-auth-failed': { zh: '卡片验证失败，请咨询工作人员', en: 'Card check failed, please ask staff' },
  'card-not-supported': { zh: '不支持此卡', en: 'Card not supported' },
  'card-timeout': { zh: '读卡超时，请重试', en: 'Card read timed out, try again' },
  'capacity-full': { zh: '今日名额已满', en: 'Full for today' },
  'not-allowed': { zh: '无通行权限，请咨询工作人员', en: 'Not authorised, please ask staff' },
  'outside-schedule': { zh: '当前时段不可通行', en: 'Not allowed at this time' },
  'certificate-revoked': { zh: '此卡已停用，请咨询工作人员', en: 'Card withdrawn by its bank, ask staff' },
  'over-limit': { zh: '车费超过限额，请刷卡', en: 'Fare over code limit, use a card' },
  'insufficient-balance': { zh: '余额不足，请充值', en: 'Balance too low, please top up' },
  'purchase-pending': { zh: '交易未完成，请重新刷卡', en: 'Not completed, tap again' },
  'psam-unavailable': { zh: '本机无法扣费，请扫码', en: 'Cannot charge this card, scan a code' },
  passback: { zh: '请勿重复进站', en: 'Already entered' },
  'clock-untrusted': { zh: '设备时间异常，请刷卡', en: 'Gate clock fault, use your card' },
  'journal-unavailable': { zh: '设备故障，请咨询工作人员', en: 'Gate fault, please ask staff' },
};

/** Announced on acceptance so the driver or staff can check concession holders. */
const CATEGORY_TEXT: Record<Category, DisplayLine> = {
  adult: { zh: '普通卡', en: 'Adult' },
  senior: { zh: '老年卡', en: 'Senior' },
  student: { zh: '学生卡', en: 'Student' },
  child: { zh: '儿童卡', en: 'Child' },
  disabled: { zh: '爱心卡', en: 'Disabled' },
  staff: { zh: '员工卡', en: 'Staff' },
};

export const IDLE_SCREEN: readonly DisplayLine[] = [{ zh: '请刷卡或扫码', en: 'Tap card or scan code' }];

/** While the emergency release holds the barrier open. */
export const EMERGENCY_SCREEN: readonly DisplayLine[] = [{ zh: '紧急疏散 请通行', en: 'Emergency: exit freely' }];

export function refusalScreen(reason: RefusalReason): DisplayLine[] {
  return [{ zh: '禁止通行', en: 'Refused' }, REFUSAL_TEXT[reason]];
}

/** A ticket's entry slot within one day, local times "HH:MM"; either end may be open. */
export function entrySlotLine(from: string | undefined, until: string | undefined): DisplayLine {
  if (from !== undefined && until !== undefined) return { zh: `入场时段 ${from}–${until}`, en: `Entry ${from}–${until}` };
  if (from !== undefined) return { zh: `入场时段 ${from} 起`, en: `Entry from ${from}` };
  return { zh: `入场时段 ${until} 止`, en: `Entry until ${until}` };
}

/** A ticket or pass valid over several days, local dates "YYYY-MM-DD"; either end may be open. */
export function validDatesLine(from: string | undefined, until: string | undefined): DisplayLine {
  if (from !== undefined && until !== undefined) return { zh: `有效期 ${from}–${until}`, en: `Valid ${from}–${until}` };
  if (from !== undefined) return { zh: `有效期 ${from} 起`, en: `Valid from ${from}` };
  return { zh: `有效期至 ${until}`, en: `Valid until ${until}` };
}

/** A venue's places left today, after this admission. */
export function placesLeftLine(remaining: number): DisplayLine {
  return { zh: `今日余量 ${remaining}`, en: `Places left today ${remaining}` };
}

/** A group ticket: how many may pass on it. */
export function groupLine(passages: number): DisplayLine {
  return { zh: `${passages} 人通行`, en: `${passages} people may pass` };
}

export const VISITOR_LINE: DisplayLine = { zh: '访客', en: 'Visitor' };

/** Under "Code already used" when another gate of the site used it: the passenger and staff see where. */
export function usedAtGateLine(gate: string): DisplayLine {
  // The id comes from a site message: shown only as short plain ASCII, which the display has glyphs for.
  if (/^[\x21-\x7e]{1,24}$/.test(gate)) return { zh: `已在闸机 ${gate} 使用`, en: `Used at gate ${gate}` };
  return { zh: '已在本站点闸机使用', en: 'Used at another gate of this site' };
}

/** A purse card's balance (fen): after the fare when it paid, or what it holds when it could not. */
export function balanceLine(balance: number): DisplayLine {
  const yuan = (balance / 100).toFixed(2);
  return { zh: `余额 ${yuan} 元`, en: `Balance ¥${yuan}` };
}

/** Why a fare is below the base fare, under the fare, so that the driver can check a concession. */
export const FARE_NOTE_TEXT = {
  free: { zh: '免费乘车', en: 'Free ride' },
  half: { zh: '半价', en: 'Half fare' },
  reduced: { zh: '优惠票价', en: 'Reduced fare' },
  offPeak: { zh: '平峰优惠', en: 'Off-peak concession' },
  transfer: { zh: '换乘优惠', en: 'Transfer discount' },
} as const satisfies Record<string, DisplayLine>;

export function acceptScreen(category: Category, fare: number | undefined): DisplayLine[] {
  const lines: DisplayLine[] = [{ zh: '请通行', en: 'Please pass' }, CATEGORY_TEXT[category]];
  if (fare !== undefined) {
    const yuan = (fare / 100).toFixed(2);
    lines.push({ zh: `扣费 ${yuan} 元`, en: `Fare ¥${yuan}` });
  }
  return lines;
}
