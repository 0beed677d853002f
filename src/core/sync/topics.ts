/** MQTT topics of DESIGN.md §4 and docs/sync.md. */
const ROOT = 'citygate/v1';

/**
 * One topic level from an id (gate, site, issuer), docs/sync.md "Topic
 * levels": letters, digits, `_` and `-` stay as they are; every other
 * character becomes `%` and two upper-case hex digits per UTF-8 byte, so
 * `cq.yukuaima` is `cq%2Eyukuaima`. A broker that gives `.` a meaning
 * (RabbitMQ's MQTT plugin makes it a separator) sees none. The single-level
 * wildcard `+` stays itself: no id can be `+` (topicSafe).
 */
export function topicLevel(id: string): string {
  if (id === '+') return '+';
  let level = '';
  for (const byte of Buffer.from(id, 'utf8')) level += plain(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return level;
}

function plain(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x5f || byte === 0x2d;
}

/**
 * The id a topic level stands for: its encoding, or (during the move to
 * encoded levels) an id written as it is, as versions before it published;
 * undefined for a level that is neither (an encoding that is not the
 * canonical one, say), so each id has one level and no other.
 */
export function idOfLevel(level: string): string | undefined {
  if (!level.includes('%')) return topicSafe(level) ? level : undefined;
  if (!/^(?:[A-Za-z0-9_-]|%[0-9A-F]{2})+$/.test(level)) return undefined;
  const bytes = level.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  const id = Buffer.from(bytes, 'latin1').toString('utf8');
  return topicLevel(id) === level && topicSafe(id) ? id : undefined;
}

export const topics = {
  status: (gate: string) => `${ROOT}/gates/${topicLevel(gate)}/status`,
  taps: (gate: string) => `${ROOT}/gates/${topicLevel(gate)}/taps`,
  tapsAck: (gate: string) => `${ROOT}/gates/${topicLevel(gate)}/taps/ack`,
  cmd: (gate: string) => `${ROOT}/gates/${topicLevel(gate)}/cmd`,
  cmdResult: (gate: string) => `${ROOT}/gates/${topicLevel(gate)}/cmd/result`,
  resync: (gate: string) => `${ROOT}/gates/${topicLevel(gate)}/resync`,
  denyList: (issuer: string) => `${ROOT}/denylist/${topicLevel(issuer)}`,
  denyListAll: `${ROOT}/denylist/+`,
  trust: `${ROOT}/trust`,
  revocations: `${ROOT}/revocations`,
  siteUsed: (site: string) => `${ROOT}/sites/${topicLevel(site)}/used`,
} as const;

/** The `{issuer}` of a deny-list topic, or undefined for any other topic. */
export function denyListIssuer(topic: string): string | undefined {
  const prefix = `${ROOT}/denylist/`;
  return topic.startsWith(prefix) && !topic.slice(prefix.length).includes('/') ? idOfLevel(topic.slice(prefix.length)) : undefined;
}

/** The gate of a `citygate/v1/gates/{gate}/{kind}` topic, or undefined for any other topic. */
export function gateOfTopic(topic: string, kind: 'taps' | 'status' | 'resync'): string | undefined {
  const levels = topic.split('/');
  if (levels.length !== 5 || `${levels[0]}/${levels[1]}` !== ROOT || levels[2] !== 'gates' || levels[4] !== kind) return undefined;
  return idOfLevel(levels[3]!);
}

/** A gate id or site may not carry MQTT wildcards or separators into a topic. */
export function topicSafe(id: string): boolean {
  return id.length > 0 && !/[/+#\u0000]/.test(id);
}
