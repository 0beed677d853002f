/**
 * A state directory that can be made to refuse the gate's writes and be
 * mended again. `in-place`: the running gate must find out by itself that
 * its journal works again; `restart`: the mend needs the gate stopped first
 * (as a technician repairs a card), and the next start must carry on.
 */
export interface FaultyDisk {
  readonly name: string;
  readonly stateDir: string;
  readonly mending: 'in-place' | 'restart';
  /** Make commits fail from now on. */
  break(): void;
  mend(): void;
  dispose(): void;
}
