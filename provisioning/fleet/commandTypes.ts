/** The commands of docs/sync.md, as the gate takes them (src/core/sync/fleetCommand.ts); apart so the CLI lists them without loading MQTT. */
export const COMMAND_TYPES = ['open', 'set-mode', 'resync', 'reload-trust', 'emergency', 'emergency-release'] as const;
