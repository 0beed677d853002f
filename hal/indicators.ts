/** LEDs and the buzzer. */
export type LightColour = 'off' | 'green' | 'red' | 'amber' | 'white';
export type Tone = 'accept' | 'refuse' | 'alarm' | 'attention';

export interface Indicators {
  light(colour: LightColour): Promise<void>;
  tone(tone: Tone): Promise<void>;
}
