import { DiskFiller } from './diskFiller.js';
import type { FaultyDisk } from './faultyDisk.js';
import { TmpfsMount } from './tmpfsMount.js';

/** A tmpfs whose every free byte a filler file takes; deleting the file gives the space back under the running gate. */
export class FullDisk implements FaultyDisk {
  readonly name = 'disk-full';
  readonly mending = 'in-place';
  /** Bytes each fill took, for the report. */
  readonly filled: number[] = [];
  private filler: DiskFiller | undefined;

  private constructor(private readonly mount: TmpfsMount) {}

  static create(dir: string, sizeMb: number): FullDisk {
    return new FullDisk(TmpfsMount.mount(dir, sizeMb));
  }

  get stateDir(): string {
    return this.mount.dir;
  }

  break(): void {
    this.filler = DiskFiller.fill(this.mount.dir);
    this.filled.push(this.filler.bytes);
  }

  mend(): void {
    this.filler?.remove();
    this.filler = undefined;
  }

  dispose(): void {
    this.mount.unmount();
  }
}
