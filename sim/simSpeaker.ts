import type { PromptId, Speaker } from '../hal/speaker.js';

/** A speaker that keeps what it was told to say, and passes each prompt on (the live lane logs it). */
export class SimSpeaker implements Speaker {
  readonly said: PromptId[] = [];

  constructor(private readonly onSay?: (prompt: PromptId) => void) {}

  async say(prompt: PromptId): Promise<void> {
    this.said.push(prompt);
    this.onSay?.(prompt);
  }
}
