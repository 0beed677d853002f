import { join } from 'node:path';
import { Ext4Card } from './ext4Card.js';
import type { FaultyDisk } from './faultyDisk.js';

/**
 * The card turned read-only by the kernel under the running gate. A tmpfs
 * cannot stand in here: `mount -o remount,ro` is refused (EBUSY) while the
 * gate holds its journal open for writing, and would not stop writes through
 * files already open anyway; ext4's error path does both, as on a real card.
 */
export class ReadOnlyCard implements FaultyDisk {
  readonly name = 'read-only-card';
  readonly mending = 'restart';
  /** e2fsck's exit status per repair (1: repaired the forced error). */
  readonly fsck: number[] = [];

  private constructor(private readonly card: Ext4Card) {}

  static create(dir: string, sizeMb: number): ReadOnlyCard {
    return new ReadOnlyCard(Ext4Card.create(join(dir, 'card.img'), join(dir, 'card'), sizeMb));
  }

  get stateDir(): string {
    return this.card.dir;
  }

  break(): void {
    this.card.failReadOnly();
  }

  mend(): void {
    this.fsck.push(this.card.repair());
  }

  dispose(): void {
    this.card.unmount();
  }
}
