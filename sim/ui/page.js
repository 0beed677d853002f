// The sim lane's page (sim/ui/uiServer.ts serves it): renders what the lane's
// feed sends, and sends one JSON action per click. Plain DOM, no framework;
// every text from the lane goes in as text, never as markup.
'use strict';

const byId = (id) => document.getElementById(id);
const CLOCK_MS = 250;
const KIND_GROUPS = [
  ['card', 'Cards'],
  ['code', 'Codes'],
  ['bank card', 'Bank cards'],
  ['transport code', 'Transport codes'],
  ['UID badge', 'UID badges'],
  ['text', 'Other'],
  ['again', 'Other'],
  ['nothing', 'Other'],
];

let setup = null;
let state = null;
let stateAt = 0;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function showMessage(text) {
  const message = byId('message');
  message.textContent = text;
  message.hidden = text === '';
}

async function post(path, body) {
  let response;
  try {
    response = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  } catch {
    showMessage('The sim does not answer: is `citygate sim --ui` still running?');
    return null;
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    showMessage(data.error || `${path}: HTTP ${response.status}`);
    return null;
  }
  showMessage('');
  return data;
}

function fare(fen) {
  return fen === null || fen === undefined ? '—' : `¥${(fen / 100).toFixed(2)}`;
}

function time(iso) {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
}

function screenText(lines) {
  return lines.map((line) => `${line.zh} / ${line.en}`).join(' · ');
}

function renderSetup(next) {
  setup = next;
  const select = byId('scenario');
  select.replaceChildren(...setup.scenarios.map((s) => el('option', { value: s.index }, `${s.name} (${s.file.split('/').pop()})`)));
  select.value = String(setup.scenario.index);
  byId('scenario-description').textContent = setup.scenario.description || '';

  const groups = new Map();
  for (const passenger of setup.passengers) {
    const group = (KIND_GROUPS.find(([kind]) => kind === passenger.kind) || [null, 'Other'])[1];
    if (!groups.has(group)) groups.set(group, []);
    const detail = el('span', { class: 'detail' }, passenger.detail, passenger.expect ? ` → ${passenger.expect}` : '');
    const button = el('button', { type: 'button', 'data-passenger': passenger.index }, passenger.name);
    groups.get(group).push(el('li', {}, button, ' ', detail));
  }
  const order = [...new Set(KIND_GROUPS.map(([, group]) => group))];
  byId('passengers').replaceChildren(
    ...order.filter((group) => groups.has(group)).flatMap((group) => [el('h3', {}, group), el('ul', { class: 'palette' }, ...groups.get(group))]),
  );
  byId('events').replaceChildren(...setup.events.map((event) => el('li', {}, el('button', { type: 'button', 'data-event': event.index }, event.name), ' ', el('span', { class: 'detail' }, event.label))));
  byId('events-group').hidden = setup.events.length === 0;
  byId('journal-path').textContent = setup.journalPath;
}

function cell(text, attributes) {
  return el('td', attributes, text);
}

function renderTaps(taps) {
  byId('taps').tBodies[0].replaceChildren(
    ...taps.map((t) => {
      const tap = t.tap;
      const repeat = t.outcome === 'repeat';
      const expected = t.expect === null ? '' : t.expect === t.verdict ? `✓ ${t.expect}` : `✗ ${t.expect}`;
      return el(
        'tr',
        { 'data-n': t.n, 'data-seq': tap && !repeat ? tap.seq : null, class: t.verdict === 'accepted' ? 'accepted' : t.outcome === 'tap' ? 'refused' : 'other' },
        cell(t.n),
        cell(t.passenger),
        cell(tap ? tap.kind : '—'),
        cell(t.outcome === 'tap' ? tap.result : t.outcome, { 'data-col': 'result' }),
        cell(t.outcome === 'tap' ? tap.reason : repeat ? `same as #${tap.seq}` : t.error || '', { 'data-col': 'reason' }),
        cell(tap && !repeat ? `${tap.latencyMs} ms` : '—', { 'data-col': 'latency', class: 'number' }),
        cell(tap && !repeat ? fare(tap.fare) : '—'),
        cell(tap && !repeat ? tap.seq : '—', { 'data-col': 'seq' }),
        cell(expected, { class: t.expect !== null && t.expect !== t.verdict ? 'mismatch' : null }),
        cell(screenText(t.screen), { 'data-col': 'screen' }),
      );
    }),
  );
  byId('taps-empty').hidden = taps.length > 0;
}

function renderJournal(journal) {
  byId('journal-path').textContent = journal.path;
  byId('journal-count').textContent = String(journal.count);
  byId('journal').tBodies[0].replaceChildren(
    ...journal.rows.map((row) =>
      el(
        'tr',
        { 'data-seq': row.seq },
        cell(row.seq),
        cell(row.id, { class: 'id' }),
        el('td', { class: 'at' }, row.at.slice(0, 10), el('wbr'), row.at.slice(10)),
        cell(row.kind),
        cell(row.issuer ?? '—'),
        cell(row.subject ?? '—', { class: 'subject' }),
        cell(row.result),
        cell(row.reason),
        cell(row.fare ?? '—'),
        cell(row.latencyMs),
      ),
    ),
  );
}

function renderPassenger(view) {
  const p = view.passenger;
  const display = byId('display');
  display.classList.toggle('large', p.large);
  // A live region: rewritten only when the screen changes, so that a screen reader reads each screen once.
  const screen = JSON.stringify(p.display);
  if (display.dataset.screen !== screen) {
    display.dataset.screen = screen;
    display.replaceChildren(...p.display.flatMap((line) => [el('p', { lang: 'zh', class: 'zh' }, line.zh), el('p', { lang: 'en', class: 'en' }, line.en)]));
  }
  byId('light').className = `light ${p.light}`;
  byId('light-text').textContent = p.light;
  byId('tone').textContent = p.tone || 'none';
  byId('said').textContent = p.said || 'none';
  byId('lane').className = `lane ${p.barrier}`;
  byId('barrier-text').textContent = p.barrier;
  const passages = byId('passages');
  if (passages.textContent !== String(p.passages)) {
    passages.textContent = String(p.passages);
    const walker = byId('walker');
    walker.classList.remove('walking');
    void walker.offsetWidth; // restart the animation for the next person
    if (p.passages > 0) walker.classList.add('walking');
  }
  byId('auto-walk').checked = view.autoWalk;
}

function renderState(next) {
  state = next;
  stateAt = performance.now();
  const { view } = state;
  renderPassenger(view);
  byId('gate-id').textContent = view.gate.id;
  byId('gate-site').textContent = view.gate.site;
  byId('gate-mode').textContent = view.gate.mode;
  byId('gate-state').textContent = view.gate.state;
  byId('gate-emergency').textContent = view.gate.emergency ? 'barrier held open' : 'no';
  renderClock();
  renderTaps(state.taps);
  renderJournal(state.journal);
  const fleet = byId('fleet');
  fleet.textContent = `none (citygate sim has no broker): ${state.fleet.backlog} taps wait for upload`;
  fleet.title = `delivered up to seq ${state.fleet.deliveredSeq}`;
  byId('alarms').replaceChildren(...state.alarms.map((a) => el('li', {}, `${time(a.at)} ${a.type}${a.detail ? `: ${a.detail}` : ''}`)));
  byId('alarms-empty').hidden = state.alarms.length > 0;
  renderPlay(state.play);
}

function renderPlay(play) {
  const playing = play !== null && play.running;
  byId('stop').disabled = !playing;
  for (const button of document.querySelectorAll('#present button, #walk')) button.disabled = playing;
  byId('scan-text').disabled = playing;
  if (play === null) {
    byId('play-status').textContent = '';
    return;
  }
  const what = playing ? 'Playing' : play.stopped ? `Stopped (${play.stopped})` : 'Played';
  byId('play-status').textContent = `${what} “${play.scenario}”: ${play.done} of ${play.of}, ${play.mismatches} not as the scenario expects`;
}

function renderClock() {
  if (!state) return;
  const { timezone, clockTrusted } = state.view.gate;
  const now = new Date(state.view.clockMs + (performance.now() - stateAt));
  let local;
  try {
    local = new Intl.DateTimeFormat('sv-SE', { timeZone: timezone, dateStyle: 'short', timeStyle: 'medium' }).format(now);
  } catch {
    local = now.toISOString().slice(0, 19).replace('T', ' ');
  }
  byId('gate-clock').textContent = `${local} ${timezone}${clockTrusted ? '' : ' (not trusted)'}`;
}

function connect() {
  const source = new EventSource('/api/events');
  source.addEventListener('setup', (event) => renderSetup(JSON.parse(event.data)));
  source.addEventListener('state', (event) => {
    byId('connection').textContent = '';
    renderState(JSON.parse(event.data));
  });
  source.addEventListener('error', () => {
    byId('connection').textContent = 'Connection to the sim lost; trying again…';
  });
}

function wire() {
  byId('passengers').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-passenger]');
    if (button && setup) post('/api/present', { lane: setup.lane, passenger: Number(button.dataset.passenger) });
  });
  byId('events').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-event]');
    if (button && setup) post('/api/event', { lane: setup.lane, event: Number(button.dataset.event) });
  });
  byId('scan-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = byId('scan-text').value.trim();
    if (text && setup) post('/api/scan', { lane: setup.lane, text });
  });
  byId('walk').addEventListener('click', () => setup && post('/api/walk', { lane: setup.lane }));
  byId('auto-walk').addEventListener('change', (event) => setup && post('/api/auto-walk', { lane: setup.lane, on: event.target.checked }));
  byId('scenario-form').addEventListener('submit', (event) => {
    event.preventDefault();
    post('/api/load', { scenario: Number(byId('scenario').value) });
  });
  byId('play-form').addEventListener('submit', (event) => {
    event.preventDefault();
    post('/api/play', { scenario: Number(byId('scenario').value), pace: Number(byId('pace').value) });
  });
  byId('stop').addEventListener('click', () => post('/api/stop', {}));
  setInterval(renderClock, CLOCK_MS);
}

wire();
connect();
