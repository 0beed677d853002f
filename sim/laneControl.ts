import { performance } from 'node:perf_hooks';
import type { Log } from '../src/core/log.js';
import type { SimRtcState } from './simClock.js';

/** What a simulated lane's control lines act on; absent where the lane has no such sim device. */
export interface LaneControls {
  log: Log;
  emergency: ((active: boolean) => void) | undefined;
  clock: { jump(ms: number): void; ntp(on: boolean): void; rtc(state: SimRtcState): void } | undefined;
}

/** `#hang <ms>`: a driver stuck in a blocking call, to exercise the watchdog. */
const HANG = /^#hang (\d{1,6})$/;
/** `#emergency on|off`: the lane's fire-alarm loop opens or closes. */
const EMERGENCY = /^#emergency (on|off)$/;
/** `#clock jump <±ms>`: someone sets the system clock. */
const CLOCK_JUMP = /^#clock jump ([+-]?\d{1,12})$/;
/** `#ntp on|off`: NTP synchronizes (stepping the clock to true time) or is lost. */
const NTP = /^#ntp (on|off)$/;
/** `#rtc ok|missing|reset`: the RTC chip keeps time, does not answer, or lost its time. */
const RTC = /^#rtc (ok|missing|reset)$/;

function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/**
 * Control lines of the sim lane's input, for demos and fault tests (docs/faults.md).
 * Returns false for a line that is not one: it is a code.
 */
export function laneControl(line: string, controls: LaneControls): boolean {
  if (!line.startsWith('#')) return false;
  const { log, emergency, clock } = controls;
  const hang = HANG.exec(line);
  const contact = EMERGENCY.exec(line);
  const jump = CLOCK_JUMP.exec(line);
  const ntp = NTP.exec(line);
  const rtc = RTC.exec(line);
  if (hang) blockEventLoop(Number(hang[1]));
  else if (contact) {
    if (emergency) emergency(contact[1] === 'on');
    else log.warn({ line }, "#emergency: this lane has no sim fire-alarm contact (devices.emergency: { driver: 'sim' })");
  } else if (jump || ntp || rtc) {
    if (!clock) log.warn({ line }, "clock control: this lane has no sim clock (devices.clock: { driver: 'sim' })");
    else if (jump) clock.jump(Number(jump[1]));
    else if (ntp) clock.ntp(ntp[1] === 'on');
    else if (rtc) clock.rtc(rtc[1] as SimRtcState);
  } else return false;
  log.info({ line }, 'sim lane control');
  return true;
}
