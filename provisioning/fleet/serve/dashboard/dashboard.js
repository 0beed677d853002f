// The fleet dashboard: renders the view that `citygate fleet serve` pushes on /events
// (Server-Sent Events). Every text from the gates goes in as textContent, never as markup.
'use strict';

const COLOURS = ['#0969da', '#bf3989', '#1a7f37', '#bc4c00', '#8250df', '#0550ae', '#cf222e', '#4d2d00'];
const SVG = 'http://www.w3.org/2000/svg';

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function gateState(gate) {
  if (!gate.status) return 'never';
  return gate.status.online ? 'online' : 'offline';
}

function renderGates(view) {
  const body = document.querySelector('#gates tbody');
  body.replaceChildren(
    ...view.gates.map((gate) => {
      const status = gate.status;
      const state = gateState(gate);
      const row = el('tr', undefined, state);
      row.dataset.gate = gate.gate;
      row.dataset.state = state;
      const devices = status ? Object.entries(status.devices) : [];
      const sick = devices.filter(([, health]) => !health.healthy).map(([name]) => name);
      const deny = status ? Object.entries(status.denyList).map(([issuer, seq]) => `${issuer}: ${seq}`).join(', ') : '';
      const cells = [
        el('td', gate.gate),
        el('td', state === 'never' ? 'never seen' : state, `state ${state}`),
        el('td', status?.mode ?? ''),
        el('td', gate.site ?? ''),
        el('td', status?.backlog ?? '', 'num'),
        el('td', deny, 'deny'),
        el('td', status?.clockTrusted === undefined ? '' : status.clockTrusted ? 'trusted' : 'untrusted', status?.clockTrusted === false ? 'untrusted' : 'trusted'),
        el('td', devices.length === 0 ? '' : sick.length === 0 ? `${devices.length} ok` : `${sick.length} of ${devices.length} failing: ${sick.join(', ')}`),
        el('td', status && status.alarms.length > 0 ? status.alarms.map((alarm) => alarm.type).join(', ') : ''),
        el('td', gate.seenAt ? new Date(gate.seenAt).toLocaleTimeString() : ''),
      ];
      cells[1].dataset.field = 'state';
      cells[5].dataset.field = 'denyList';
      row.append(...cells);
      return row;
    }),
  );
}

function renderIssuers(view) {
  const body = document.querySelector('#issuers tbody');
  body.replaceChildren(
    ...view.issuers.map((issuer) => {
      const row = el('tr');
      row.dataset.issuer = issuer.issuer;
      const seq = el('td', issuer.seq, 'num');
      seq.dataset.field = 'seq';
      row.append(el('td', issuer.issuer), seq, el('td', issuer.current, 'num'), el('td', issuer.lagging, issuer.lagging > 0 ? 'num lagging' : 'num'), el('td', issuer.ahead, 'num'), el('td', issuer.snapshotsSent, 'num'));
      return row;
    }),
  );
}

function renderChart(view) {
  const chart = document.getElementById('taps');
  const legend = document.getElementById('legend');
  const { minutes, sites } = view.taps;
  const names = Object.keys(sites).sort();
  const width = 720;
  const height = 220;
  const left = 40;
  const bottom = 20;
  const top = 10;
  const peak = Math.max(1, ...names.flatMap((site) => sites[site]));
  const x = (i) => left + (i * (width - left - 10)) / Math.max(1, minutes.length - 1);
  const y = (count) => height - bottom - (count * (height - bottom - top)) / peak;
  const parts = [];
  for (const fraction of [0, 0.5, 1]) {
    const value = Math.round(peak * fraction);
    parts.push(svg('line', { class: 'grid', x1: left, x2: width - 10, y1: y(value), y2: y(value) }), svg('text', { x: left - 4, y: y(value) + 3, 'text-anchor': 'end' }, value));
  }
  parts.push(svg('line', { class: 'axis', x1: left, x2: width - 10, y1: height - bottom, y2: height - bottom }));
  minutes.forEach((minute, i) => {
    if (i % 5 === 4 || i === minutes.length - 1) parts.push(svg('text', { x: x(i), y: height - 5, 'text-anchor': 'middle' }, new Date(minute).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })));
  });
  names.forEach((site, index) => {
    const counts = sites[site];
    const group = svg('g', { 'data-site': site, 'data-total': counts.reduce((sum, n) => sum + n, 0) });
    group.append(svg('polyline', { stroke: COLOURS[index % COLOURS.length], points: counts.map((count, i) => `${x(i).toFixed(1)},${y(count).toFixed(1)}`).join(' ') }), svg('title', {}, site));
    parts.push(group);
  });
  chart.replaceChildren(...parts);
  legend.replaceChildren(
    ...names.map((site, index) => {
      const item = el('li');
      item.dataset.site = site;
      const swatch = el('span', undefined, 'swatch');
      swatch.style.background = COLOURS[index % COLOURS.length];
      const total = sites[site].reduce((sum, n) => sum + n, 0);
      item.append(swatch, document.createTextNode(`${site}: ${sites[site].at(-1)} this minute, ${total} in 30 min`));
      return item;
    }),
  );
}

function render(view) {
  const online = view.gates.filter((gate) => gate.status?.online).length;
  document.getElementById('summary').textContent = `${view.gates.length} gates, ${online} online`;
  const broker = document.getElementById('broker');
  broker.textContent = view.broker.connected ? `connected (${view.broker.url})` : `disconnected (${view.broker.url})`;
  broker.className = `state ${view.broker.connected ? 'connected' : 'disconnected'}`;
  document.getElementById('trust-seq').textContent = view.trustListSeq;
  document.getElementById('revocation-seq').textContent = view.revocationSeq;
  document.getElementById('trust-sent').textContent = view.listsSent.trust;
  document.getElementById('revocation-sent').textContent = view.listsSent.revocations;
  const expires = document.getElementById('revocation-exp');
  const runsOut = view.revocationExp === null ? undefined : Date.parse(view.revocationExp);
  expires.textContent = runsOut === undefined ? 'none kept' : `${runsOut <= Date.now() ? 'expired' : 'expires'} ${new Date(runsOut).toLocaleString()}`;
  expires.className = runsOut !== undefined && runsOut - Date.now() < 7 * 86_400_000 ? 'expiring' : '';
  document.getElementById('updated').textContent = `updated ${new Date(view.at).toLocaleTimeString()}`;
  renderGates(view);
  renderIssuers(view);
  renderChart(view);
}

const feed = document.getElementById('feed');
const events = new EventSource('events');
events.addEventListener('fleet', (event) => render(JSON.parse(event.data)));
events.addEventListener('open', () => {
  feed.textContent = 'live';
  feed.className = 'state connected';
});
events.addEventListener('error', () => {
  feed.textContent = 'reconnecting';
  feed.className = 'state disconnected';
});
