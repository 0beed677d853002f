import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PROMPTS, type PromptId, type Speaker } from '../speaker.js';

/** Where systemd/install.sh puts the shipped prompts; an operator's own go elsewhere (e.g. /etc/citygate/prompts). */
export const SHIPPED_PROMPTS_DIR = '/opt/citygate/assets/prompts';

export const aplaySpeakerSettingsSchema = z.strictObject({
  /** One `<prompt id>.wav` per prompt (hal/speaker.ts PROMPTS). */
  dir: z.string().min(1).default(SHIPPED_PROMPTS_DIR),
  /** ALSA PCM name for `aplay -D` (`plughw:1,0` for a USB speaker); the default device when absent. */
  device: z.string().min(1).optional(),
});
export type AplaySpeakerSettings = z.output<typeof aplaySpeakerSettingsSchema>;

export type SpeakerHealth = (healthy: boolean, detail: string) => void;

/**
 * Plays each prompt's WAV file with `aplay` (alsa-utils), one process per
 * prompt; a new prompt kills the one still playing, so the passenger hears
 * the answer to the latest tap. Missing files, a missing `aplay` and aplay's
 * own errors (no sound card, bad file) are health reports with aplay's words.
 */
export class AplaySpeaker implements Speaker {
  private playing: ChildProcess | undefined;
  private readonly cut = new WeakSet<ChildProcess>();
  /** Prompts whose file was missing when last looked for: the speaker is not healthy while any is. */
  private readonly missing = new Set<PromptId>();
  private lastHealth: { healthy: boolean; detail: string } | undefined;

  constructor(
    private readonly settings: AplaySpeakerSettings,
    private readonly onHealth: SpeakerHealth,
  ) {}

  /**
   * Every prompt's file, checked at start and after each prompt that played
   * (a few stat calls), so that files put back, or a sound card that works
   * again, show as healthy. The prompts present play while others are missing.
   */
  checkFiles(): void {
    for (const prompt of PROMPTS) {
      if (existsSync(this.file(prompt))) this.missing.delete(prompt);
      else this.missing.add(prompt);
    }
    const missing = [...this.missing].map((p) => `${p}.wav`).join(', ');
    if (missing === '') this.report(true, `${PROMPTS.length} prompts in ${this.settings.dir}`);
    else this.report(false, `prompt files missing in ${this.settings.dir}: ${missing} (copy them from ${SHIPPED_PROMPTS_DIR})`);
  }

  say(prompt: PromptId): Promise<void> {
    const previous = this.playing;
    if (previous) {
      this.cut.add(previous);
      previous.kill('SIGTERM');
    }
    const file = this.file(prompt);
    if (!existsSync(file)) {
      this.missing.add(prompt);
      this.report(false, `prompt ${prompt}: ${file} is missing`);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const args = ['-q', ...(this.settings.device ? ['-D', this.settings.device] : []), file];
      const child = spawn('aplay', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      this.playing = child;
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-400);
      });
      let spawnFailed = false;
      // A process that could not start emits 'error' and then 'close' as well.
      child.once('error', (error: NodeJS.ErrnoException) => {
        spawnFailed = true;
        this.report(false, error.code === 'ENOENT' ? 'aplay not found: install alsa-utils' : `aplay: ${error.message}`);
      });
      child.once('close', (code, signal) => {
        if (this.playing === child) this.playing = undefined;
        if (code === 0) this.checkFiles();
        // aplay's last line says what went wrong ("audio open error: ..."); ALSA's lines before it are detail.
        else if (!spawnFailed && !this.cut.has(child)) this.report(false, `aplay ${file} ${signal ? `killed by ${signal}` : `exited with ${code}`}: ${stderr.trim().split('\n').pop() || 'no message'}`);
        resolve();
      });
    });
  }

  private file(prompt: PromptId): string {
    return join(this.settings.dir, `${prompt}.wav`);
  }

  /** Only changes are passed on: a healthy speaker does not report every prompt. */
  private report(healthy: boolean, detail: string): void {
    const last = this.lastHealth;
    if (last && last.healthy === healthy && (healthy || last.detail === detail)) return;
    this.lastHealth = { healthy, detail };
    this.onHealth(healthy, detail);
  }
}

export function createAplaySpeaker(settings: AplaySpeakerSettings, onHealth: SpeakerHealth): AplaySpeaker {
  const speaker = new AplaySpeaker(settings, onHealth);
  speaker.checkFiles();
  return speaker;
}
