/**
 * Voice prompts: a short recorded sentence per id, as bus validators say
 * "老年卡" on a senior's tap. Operators replace the sound files; the ids are
 * the contract. A new prompt cuts the one playing.
 */
export const PROMPTS = [
  'accept',
  'refuse',
  'emergency',
  'category-adult',
  'category-senior',
  'category-student',
  'category-child',
  'category-disabled',
  'category-staff',
] as const;
export type PromptId = (typeof PROMPTS)[number];

export interface Speaker {
  /** Resolves when the prompt has finished or was cut by the next; a driver reports failures as health, never throws. */
  say(prompt: PromptId): Promise<void>;
}
