/** The logger the core writes to; pino's loggers fit it, tests may pass a silent one. */
export interface Log {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export const silentLog: Log = {
  info() {},
  warn() {},
  error() {},
};
