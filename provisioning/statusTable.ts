import type { GateStatus, KeyStatus } from './status.js';

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MiB`;
}

function keyLine(key: KeyStatus): string {
  const bounds = [key.nbf ? `from ${key.nbf}` : '', key.exp ? `until ${key.exp}` : ''].filter(Boolean).join(' ');
  return `${key.kid} ${key.alg} ${key.state}${bounds ? ` (${bounds})` : ''}`;
}

/** The status as two columns a technician reads on a small terminal. */
export function statusTable(status: GateStatus): string {
  const rows: [string, string][] = [
    ['gate', status.gate.id],
    ['site', status.gate.site ?? '-'],
    ['zone', status.gate.zone ?? '-'],
    ['mode', status.gate.mode],
    ['config', status.config],
    ['broker', status.broker ?? '-'],
  ];
  const j = status.journal;
  if ('note' in j) rows.push(['journal', `${j.path}: ${j.note}`]);
  else {
    rows.push(['journal', j.path], ['last seq', String(j.lastSeq)], ['last tap', j.lastTapAt ?? '-'], ['delivered up to', String(j.deliveredSeq)], ['backlog', String(j.backlog)], ['trust list seq', String(j.trustListSeq)]);
  }
  rows.push(['disk free', `${mib(status.disk.freeBytes)} of ${mib(status.disk.totalBytes)} (${status.disk.path})`]);
  const deny = status.denyList;
  if ('note' in deny) rows.push(['deny lists', deny.note]);
  else {
    const entries = Object.entries(deny.seqs);
    if (entries.length === 0) rows.push(['deny lists', 'none']);
    for (const [issuer, seq] of entries) rows.push([`deny list ${issuer}`, `seq ${seq}`]);
  }
  const t = status.trust;
  if ('note' in t) rows.push(['trust list', `${t.path}: ${t.note}`]);
  else {
    rows.push(['trust list', t.path]);
    for (const issuer of t.issuers) for (const key of issuer.keys) rows.push([`issuer ${issuer.id}`, keyLine(key)]);
    for (const key of t.fleet) rows.push(['fleet key', keyLine(key)]);
  }
  const r = status.revocations;
  if ('note' in r) rows.push(['revocation list', `${r.path}: ${r.note}`]);
  else rows.push(['revocation list', `seq ${r.seq}, ${r.entries} issuer certificates revoked (${r.path})`]);
  const c = status.certificate;
  if ('note' in c) rows.push(['certificate', c.note]);
  else rows.push(['certificate', `${c.subject.replaceAll('\n', ', ')} until ${c.validTo}${c.matchesKey ? '' : ' (NOT the device key)'}`]);
  rows.push(['problems', status.problems.length === 0 ? 'none' : String(status.problems.length)]);
  if (status.warnings.length > 0) rows.push(['warnings', String(status.warnings.length)]);
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`);
  for (const problem of status.problems) lines.push(`  ! ${problem}`);
  for (const warning of status.warnings) lines.push(`  ~ ${warning}`);
  return `${lines.join('\n')}\n`;
}
