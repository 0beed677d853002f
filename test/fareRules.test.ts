import { describe, expect, it } from 'vitest';
import { parseWith, gateSettingsSchema } from '../src/app/settingsSchema.js';
import { quoteFare, type FareSchedule } from '../src/core/policy/fareRules.js';

/** Local time in Chongqing (UTC+8) on Monday 23 November 2026. */
const at = (hhmm: string, date = '2026-11-23') => Date.parse(`${date}T${hhmm}:00+08:00`);
const TZ = 'Asia/Shanghai';
const OFF_PEAK = [{ from: 9 * 60, until: 17 * 60 }];

const schedule: FareSchedule = {
  default: 200,
  byRoute: { '818': 300, K12: 125 },
  rules: [
    { category: 'senior', fare: 0, hours: OFF_PEAK, days: [1, 2, 3, 4, 5] },
    { category: 'student', percent: 50 },
    { category: 'disabled', fare: 0 },
    { category: 'child', percent: 80 },
  ],
};

describe('fare by route and holder category', () => {
  it('uses the route fare where there is one, the default elsewhere', () => {
    expect(quoteFare(schedule, 'adult', '818', at('10:00'), TZ)).toEqual({ fare: 300, note: [] });
    expect(quoteFare(schedule, 'adult', '401', at('10:00'), TZ)).toEqual({ fare: 200, note: [] });
    expect(quoteFare(schedule, 'adult', undefined, at('10:00'), TZ)).toEqual({ fare: 200, note: [] });
  });

  it('senior free only off-peak on weekdays: the rule does not apply outside its hours or days', () => {
    expect(quoteFare(schedule, 'senior', '818', at('09:00'), TZ)).toEqual({ fare: 0, note: [{ zh: '平峰优惠', en: 'Off-peak concession' }] });
    expect(quoteFare(schedule, 'senior', '818', at('16:59'), TZ).fare).toBe(0);
    expect(quoteFare(schedule, 'senior', '818', at('17:00'), TZ).fare).toBe(300);
    expect(quoteFare(schedule, 'senior', '818', at('08:59'), TZ).fare).toBe(300);
    // Saturday 28 November, within the hours but not on a listed day.
    expect(quoteFare(schedule, 'senior', '818', at('10:00', '2026-11-28'), TZ).fare).toBe(300);
  });

  it('reads the hours in the gate time zone', () => {
    // 16:30 in Chongqing is 08:30 in London.
    expect(quoteFare(schedule, 'senior', '818', at('16:30'), TZ).fare).toBe(0);
    expect(quoteFare(schedule, 'senior', '818', at('16:30'), 'Europe/London').fare).toBe(300);
  });

  it('a percent is the share of the base fare paid, rounded down to the fen', () => {
    expect(quoteFare(schedule, 'student', '818', at('10:00'), TZ)).toEqual({ fare: 150, note: [{ zh: '半价', en: 'Half fare' }] });
    expect(quoteFare(schedule, 'student', 'K12', at('10:00'), TZ).fare).toBe(62);
    expect(quoteFare(schedule, 'child', 'K12', at('10:00'), TZ)).toEqual({ fare: 100, note: [{ zh: '优惠票价', en: 'Reduced fare' }] });
    expect(quoteFare(schedule, 'disabled', '818', at('20:00'), TZ)).toEqual({ fare: 0, note: [{ zh: '免费乘车', en: 'Free ride' }] });
  });

  it('applies the first matching rule, and falls through to the next one outside its hours', () => {
    const ordered: FareSchedule = {
      default: 200,
      byRoute: {},
      rules: [
        { category: 'senior', fare: 0, hours: OFF_PEAK },
        { category: 'senior', percent: 50 },
        { category: 'senior', fare: 10 },
      ],
    };
    expect(quoteFare(ordered, 'senior', undefined, at('12:00'), TZ).fare).toBe(0);
    expect(quoteFare(ordered, 'senior', undefined, at('07:30'), TZ).fare).toBe(100);
    expect(quoteFare(ordered, 'adult', undefined, at('12:00'), TZ).fare).toBe(200);
  });
});

function configError(fares: unknown): string {
  try {
    parseWith(gateSettingsSchema, { id: 'BUS-1', site: 'cq-bus', mode: 'bus', bus: { operator: 'cqbus', route: '818', fares } }, 'config.json');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the config was accepted');
}

describe('fare schema', () => {
  it('turns HH:MM into minutes, with 24:00 as the end of the day', () => {
    const settings = parseWith(
      gateSettingsSchema,
      { id: 'BUS-1', site: 'cq-bus', mode: 'bus', bus: { operator: 'cqbus', route: '818', fares: { default: 200, rules: [{ category: 'senior', fare: 0, hours: [{ from: '00:00', until: '06:30' }, { from: '21:00', until: '24:00' }], days: [6, 7] }] } } },
      'config.json',
    );
    expect(settings.bus!.fares).toEqual({ default: 200, byRoute: {}, rules: [{ category: 'senior', fare: 0, hours: [{ from: 0, until: 390 }, { from: 1260, until: 1440 }], days: [6, 7] }] });
  });

  it('names the field, the value and what is allowed', () => {
    expect(configError({ default: 200, rules: [{ category: 'pensioner', fare: 0 }] })).toMatch(
      /^config\.json: bus\.fares\.rules\.0\.category: .*"adult"\|"senior"\|"student"\|"child"\|"disabled"\|"staff".* \(got "pensioner"\)$/m,
    );
    expect(configError({ default: 200, rules: [{ category: 'senior', fare: 0, hours: [{ from: '9:00', until: '17:00' }] }] })).toBe(
      'config.json: bus.fares.rules.0.hours.0.from: a local time HH:MM, 00:00 ... 23:59 (got "9:00")',
    );
    expect(configError({ default: 200, rules: [{ category: 'senior', fare: 0, hours: [{ from: '22:00', until: '06:00' }] }] })).toBe(
      'config.json: bus.fares.rules.0.hours.0.until: must be later than from (22:00); hours over midnight are two spans, one up to 24:00 and one from 00:00 (got "06:00")',
    );
    expect(configError({ default: 200, rules: [{ category: 'student', percent: 150 }] })).toBe('config.json: bus.fares.rules.0.percent: a whole percent of the base fare, 0 ... 100 (got 150)');
    expect(configError({ default: 200, rules: [{ category: 'student', percent: 50, fare: 100 }] })).toMatch(/bus\.fares\.rules\.0\.fare: a student rule has exactly one of fare \(fen\) and percent/);
    expect(configError({ default: 200, rules: [{ category: 'student' }] })).toMatch(/bus\.fares\.rules\.0\.fare: a student rule has exactly one of fare/);
    expect(configError({ default: 2.5 })).toBe('config.json: bus.fares.default: a whole number of fen (1 yuan = 100 fen), 0 or more (got 2.5)');
    expect(configError({ default: 200, rules: [{ category: 'senior', fare: 0, days: [0] }] })).toBe('config.json: bus.fares.rules.0.days.0: a weekday number: 1 (Monday) ... 7 (Sunday) (got 0)');
    expect(configError({ default: 200, byRoute: { '818 express': 300 } })).toBe('config.json: bus.fares.byRoute.818 express: the route id "818 express" is not letters, digits, ".", "_" or "-", 1 to 32 characters (got 300)');
    expect(configError({ default: 200, peak: 300 })).toMatch(/bus\.fares: Unrecognized key: "peak"/);
  });
});
