import type { PassageEvent, PassageSensor } from '../passageSensor.js';
import type { GpioContext } from './gpioContext.js';
import type { InputLine, InputPinSettings } from './gpioPort.js';

/**
 * `beams`: two through-beam photoelectric sensors across the lane, `entry` on
 * the paying side and `exit` past the barrier; active = beam blocked.
 * `controller`: a lane controller or light curtain that judges by itself and
 * gives one pulse per person on `passage` and one on `tailgate`.
 */
export type GpioPassageSettings =
  | { kind: 'beams'; entry: InputPinSettings; exit: InputPinSettings }
  | { kind: 'controller'; passage: InputPinSettings; tailgate?: InputPinSettings };

/**
 * Two beams: one passage is one episode that starts with both beams clear,
 * blocks the entry beam first, then the exit beam, and ends when both are clear
 * again. Someone who steps back out (only the entry beam) or comes the wrong
 * way (exit beam first) is no passage. People following close enough to keep
 * a beam blocked merge into one passage: two beams at one height cannot tell a
 * second person from a trailing suitcase, and counting every re-blocked beam
 * would charge a group ticket, or raise the gate's tailgating alarm, for
 * luggage. Lanes that must catch close followers use the `controller` kind.
 */
export class BeamPassageLogic {
  private entry = false;
  private exit = false;
  private phase: 'idle' | 'entering' | 'crossing' | 'other' = 'idle';

  /** Feed one beam's change; returns whether it completed a passage. */
  change(beam: 'entry' | 'exit', blocked: boolean): boolean {
    if (beam === 'entry') this.entry = blocked;
    else this.exit = blocked;
    if (!this.entry && !this.exit) {
      const passed = this.phase === 'crossing';
      this.phase = 'idle';
      return passed;
    }
    if (this.phase === 'idle') this.phase = beam === 'entry' && !this.exit ? 'entering' : 'other';
    else if (this.phase === 'entering' && beam === 'exit' && blocked) this.phase = 'crossing';
    return false;
  }

  /** The beams' state at start: an episode already under way is not counted. */
  reset(entry: boolean, exit: boolean): void {
    this.entry = entry;
    this.exit = exit;
    this.phase = entry || exit ? 'other' : 'idle';
  }
}

type PassageLines = { kind: 'beams'; entry: InputLine; exit: InputLine } | { kind: 'controller'; passage: InputLine; tailgate: InputLine | undefined };

export class GpioPassageSensor implements PassageSensor {
  constructor(
    private readonly lines: PassageLines,
    private readonly context: GpioContext,
  ) {}

  async start(listener: (event: PassageEvent) => void): Promise<void> {
    const onError = this.context.onFault;
    const lines = this.lines;
    if (lines.kind === 'beams') {
      const logic = new BeamPassageLogic();
      const watch = (beam: 'entry' | 'exit') =>
        lines[beam].start((blocked) => {
          if (logic.change(beam, blocked)) listener({ type: 'passage' });
        }, onError);
      const entry = await watch('entry');
      logic.reset(entry, await watch('exit'));
      return;
    }
    await lines.passage.start((active) => active && listener({ type: 'passage' }), onError);
    await lines.tailgate?.start((active) => active && listener({ type: 'tailgate' }), onError);
  }

  async stop(): Promise<void> {
    const { lines } = this;
    const all = lines.kind === 'beams' ? [lines.entry, lines.exit] : [lines.passage, lines.tailgate];
    for (const line of all) await line?.release();
  }
}

export async function createGpioPassageSensor(settings: GpioPassageSettings, context: GpioContext): Promise<GpioPassageSensor> {
  const opened: InputLine[] = [];
  const open = async (name: string, pin: InputPinSettings): Promise<InputLine> => {
    const line = await context.port.input(`passage.${name}`, pin);
    opened.push(line);
    return line;
  };
  try {
    const lines: PassageLines =
      settings.kind === 'beams'
        ? { kind: 'beams', entry: await open('entry', settings.entry), exit: await open('exit', settings.exit) }
        : { kind: 'controller', passage: await open('passage', settings.passage), tailgate: settings.tailgate ? await open('tailgate', settings.tailgate) : undefined };
    return new GpioPassageSensor(lines, context);
  } catch (error) {
    for (const line of opened) await line.release();
    throw error;
  }
}
