/**
 * A broker URL fit for a log line or a message: any `user:password@` is
 * replaced by `***@`. A password may hold an unescaped `@`, so the userinfo
 * runs to the last `@` of the authority.
 */
export function redactUrl(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (!match) return url;
  const [, scheme, authority, rest] = match as unknown as [string, string, string, string];
  const at = authority.lastIndexOf('@');
  return at < 0 ? url : `${scheme}***@${authority.slice(at + 1)}${rest}`;
}
