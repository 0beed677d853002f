import type { Journal } from '../core/journal.js';
import { MODES, type GateMode } from '../core/settings.js';

const KEY = 'mode_override';

/**
 * A mode set by fleet command outlives a restart, but only while the config
 * file still says the mode it overrode: a technician who edits `gate.mode`
 * gets what the file says.
 */
export function saveModeOverride(journal: Journal, configMode: GateMode, mode: GateMode): void {
  journal.setMetaValue(KEY, JSON.stringify({ configMode, mode }));
}

export function modeOverride(journal: Journal, configMode: GateMode): GateMode | undefined {
  const text = journal.metaValue(KEY);
  if (text === undefined) return undefined;
  try {
    const saved = JSON.parse(text) as { configMode?: unknown; mode?: unknown };
    const mode = MODES.find((m) => m === saved.mode);
    return saved.configMode === configMode ? mode : undefined;
  } catch {
    return undefined;
  }
}
