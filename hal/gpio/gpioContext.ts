import type { Clock } from '../clock.js';
import type { GpioFault } from './gpioFault.js';
import type { GpioPort } from './gpioPort.js';

/** What every GPIO driver is built with. */
export interface GpioContext {
  port: GpioPort;
  clock: Pick<Clock, 'setTimer'>;
  /**
   * A failure after the command that caused it had already resolved (the end
   * of a pulse, a step of a tone, an input read): for the board's health.
   */
  onFault: (fault: GpioFault) => void;
}
