/**
 * Light curtains or beams in the lane. `passage` is one person through the
 * lane; `tailgate` is the sensor's own judgement that two people went through
 * on one opening (or one went through a closed lane).
 */
export type PassageEvent = { type: 'passage' } | { type: 'tailgate' };

export interface PassageSensor {
  start(listener: (event: PassageEvent) => void): Promise<void>;
  stop(): Promise<void>;
}
