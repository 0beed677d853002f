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

export function refusalScreen(reason: RefusalReason): DisplayLine[] {
  return [{ zh: '禁止通行', en: 'Refused' }, REFUSAL_TEXT[reason]];
}

export function acceptScreen(category: Category, fare: number | undefined): DisplayLine[] {
  const lines: DisplayLine[] = [{ zh: '请通行', en: 'Please pass' }, CATEGORY_TEXT[category]];
  if (fare !== undefined) {
    const yuan = (fare / 100).toFixed(2);
    lines.push({ zh: `扣费 ${yuan} 元`, en: `Fare ¥${yuan}` });
  }
  return lines;
}
