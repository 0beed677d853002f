import type { LocationEvent } from '../../hal/locationSource.js';

/** Records a location source's events and waits for the ones a test expects. */
export class LocationEvents {
  readonly events: LocationEvent[] = [];
  readonly listener = (event: LocationEvent): void => {
    this.events.push(event);
  };

  places(): Exclude<LocationEvent, { type: 'health' }>[] {
    return this.events.flatMap((e) => (e.type === 'health' ? [] : [e]));
  }

  health(): { healthy: boolean; detail: string }[] {
    return this.events.flatMap((e) => (e.type === 'health' ? [{ healthy: e.healthy, detail: e.detail }] : []));
  }

  /** Resolves once `predicate` holds for the events so far; fails with what was seen after `timeoutMs`. */
  async until(predicate: (events: LocationEvents) => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() > deadline) throw new Error(`expected events did not arrive; got ${JSON.stringify(this.events, null, 1)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
