/** MQTT topics of DESIGN.md §4 and docs/sync.md. */
const ROOT = 'citygate/v1';

export const topics = {
  status: (gate: string) => `${ROOT}/gates/${gate}/status`,
  taps: (gate: string) => `${ROOT}/gates/${gate}/taps`,
  tapsAck: (gate: string) => `${ROOT}/gates/${gate}/taps/ack`,
  cmd: (gate: string) => `${ROOT}/gates/${gate}/cmd`,
  cmdResult: (gate: string) => `${ROOT}/gates/${gate}/cmd/result`,
  resync: (gate: string) => `${ROOT}/gates/${gate}/resync`,
  denyList: (issuer: string) => `${ROOT}/denylist/${issuer}`,
  denyListAll: `${ROOT}/denylist/+`,
  trust: `${ROOT}/trust`,
  revocations: `${ROOT}/revocations`,
  siteUsed: (site: string) => `${ROOT}/sites/${site}/used`,
} as const;

/** The `{issuer}` of a deny-list topic, or undefined for any other topic. */
export function denyListIssuer(topic: string): string | undefined {
  const prefix = `${ROOT}/denylist/`;
  return topic.startsWith(prefix) && !topic.slice(prefix.length).includes('/') ? topic.slice(prefix.length) : undefined;
}

/** A gate id or site may not carry MQTT wildcards or separators into a topic. */
export function topicSafe(id: string): boolean {
  return id.length > 0 && !/[/+#\u0000]/.test(id);
}
