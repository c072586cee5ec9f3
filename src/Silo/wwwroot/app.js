// Saiki dashboard: polls the silo's REST API every second and shows pipeline health, lake completeness and the
// business processes. Charts are drawn by uPlot (the global `uPlot`, loaded by index.html from lib/); the history
// behind the pipeline charts is kept in this page since it was opened.

const POLL_MS = 1000;
const HISTORY_POINTS = 24 * 3600; // one point per poll: a day
const TOKEN_KEY = 'saiki.token';
const CHART_HEIGHT = 220;
const FRESH_MS = 10_000; // how long a new SLA breach stays highlighted
const COLORS = {
  captured: '#2563eb', durable: '#16a34a', started: '#2563eb', completed: '#16a34a', breached: '#dc2626',
  reached: '#60a5fa', p50: '#1d4ed8', p95: '#f59e0b', p99: '#fca5a5',
};
const PALETTE = ['#2563eb', '#db2777', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#65a30d', '#dc2626'];
// Axis steps for counts: never a fraction of an event.
const COUNT_INCRS = [1, 2, 5].flatMap(m => Array.from({ length: 10 }, (_, e) => m * 10 ** e)).sort((a, b) => a - b);
// Axis steps for durations in ms: round seconds, minutes, hours and days.
const DURATION_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500]
  .concat([1, 2, 5, 10, 15, 30].map(n => n * 1e3), [1, 2, 5, 10, 15, 30].map(n => n * 60e3))
  .concat([1, 2, 3, 6, 12].map(n => n * 3600e3), [1, 2, 7, 14, 30, 90, 365].map(n => n * 86400e3));

// ---- API -------------------------------------------------------------------------------------------------------

/** A failed API call; status 0 when the silo could not be reached at all. */
class HttpError extends Error {
  constructor(status, path) {
    super(status === 0 ? 'silo unreachable; retrying'
      : status === 401 ? 'the silo wants an API token (401): enter it above'
        : status === 403 ? 'the API token may not read this (403)'
          : `${path} answered ${status}`);
    this.status = status;
  }
}

/** GETs JSON from the API (relative to the page), with the bearer token when one is set; null for an allowed 404. */
async function getJson(path, { allow404 = false } = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const response = await fetch(path, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    cache: 'no-store',
  }).catch(() => { throw new HttpError(0, path); });
  if (allow404 && response.status === 404) return null;
  if (!response.ok) throw new HttpError(response.status, path);
  return response.json();
}

const segment = encodeURIComponent;

// ---- Formatting ------------------------------------------------------------------------------------------------

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

const fmtCount = v => (v == null ? '–' : integer.format(v));
const fmtRate = v => (v == null ? '–' : decimal.format(v));

function fmtBytes(v) {
  if (v == null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${i === 0 ? integer.format(v) : decimal.format(v)} ${units[i]}`;
}

function fmtDuration(ms) {
  if (ms == null) return '–';
  if (Math.abs(ms) < 1000) return `${integer.format(ms)} ms`;
  const s = ms / 1000;
  if (Math.abs(s) < 60) return `${decimal.format(s)} s`;
  // the two largest units, the smaller one left out when zero: "2 min 5 s", "15 min", "1 d 3 h"
  const units = [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]];
  const i = units.findIndex(([, size]) => Math.abs(s) >= size);
  const [[big, bigSize], [small, smallSize]] = [units[i], units[i + 1]];
  const whole = Math.trunc(s / bigSize);
  const rest = Math.trunc((s - whole * bigSize) / smallSize);
  return rest ? `${whole} ${big} ${Math.abs(rest)} ${small}` : `${whole} ${big}`;
}

/** A duration in one unit, short enough for an axis. */
function fmtDurationShort(ms) {
  if (ms === 0) return '0';
  const [unit, size] = [['d', 86400e3], ['h', 3600e3], ['min', 60e3], ['s', 1e3]].find(([, n]) => Math.abs(ms) >= n) ?? ['ms', 1];
  return `${decimal.format(ms / size)} ${unit}`;
}

/** A .NET TimeSpan as JSON ("[-][d.]hh:mm:ss[.fffffff]") as a duration; anything else as it came. */
function fmtSpan(span) {
  const m = /^(-)?(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(span ?? '');
  if (!m) return span ?? '–';
  const ms = (((+(m[2] ?? 0) * 24 + +m[3]) * 60 + +m[4]) * 60 + +m[5]) * 1000;
  return fmtDuration(m[1] ? -ms : ms);
}

function fmtTime(iso) {
  if (!iso) return '–';
  const at = new Date(iso);
  const today = at.toDateString() === new Date().toDateString();
  return at.toLocaleString(undefined, today ? { timeStyle: 'medium' } : { dateStyle: 'short', timeStyle: 'medium' });
}

const fmtAge = (iso, now = Date.now()) => (iso ? `${fmtDuration(Math.max(0, now - Date.parse(iso)))} ago` : '–');

// ---- DOM -------------------------------------------------------------------------------------------------------

/** Creates an element; attributes and children that are null or false are left out, children may be nodes or text. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value != null && value !== false) node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children.filter(c => c != null && c !== false).map(c => (c instanceof Node ? c : String(c))));
  return node;
}

const td = (content, className) => el('td', { class: className }, content);
const num = content => td(content, 'num');
const timeCell = (iso, now) => td(iso ? el('time', { datetime: iso, title: fmtAge(iso, now) }, fmtTime(iso)) : '–');

// ---- Charts ----------------------------------------------------------------------------------------------------

const chartsByContainer = new Map();
const resizer = new ResizeObserver(entries => entries.forEach(e => chartsByContainer.get(e.target)?.resize()));

/** One uPlot in a `.chart` container, re-created when the shape of its data (series, categories) changes. */
class Chart {
  constructor(container) {
    this.container = container;
    chartsByContainer.set(container, this);
    resizer.observe(container);
  }

  draw(shape, makeOptions, data) {
    if (this.plot && shape === this.shape) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.shape = shape;
    this.plot = new uPlot({ ...makeOptions(), width: this.width(), height: CHART_HEIGHT }, data, this.container);
  }

  resize() {
    const width = this.width();
    if (this.plot && this.plot.width !== width) this.plot.setSize({ width, height: CHART_HEIGHT });
  }

  width() {
    return Math.max(240, Math.floor(this.container.clientWidth));
  }

  destroy() {
    resizer.unobserve(this.container);
    chartsByContainer.delete(this.container);
    this.plot?.destroy();
  }
}

const line = (label, stroke, format) => ({ label, stroke, width: 2, value: (u, v) => (v == null ? '–' : format(v)) });

function timeOptions(series, format, incrs) {
  return {
    // at least a minute wide, so that the first seconds do not get sub-second ticks
    scales: { x: { time: true, range: (u, min, max) => [Math.min(min, max - 60), max] } },
    series: [{}, ...series],
    axes: [{}, { size: 70, incrs, values: (u, splits) => splits.map(format) }],
  };
}

/** Bars over named categories (process steps); `size` is each series' share of a category's width, so narrower
 * bars drawn later sit inside wider ones. `caption(u, i)`, when given, adds a line under category i's name. */
function categoryOptions(categories, series, format, { incrs, caption } = {}) {
  return {
    scales: {
      x: { time: false, range: [-0.5, Math.max(1, categories.length) - 0.5] },
      y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] },
    },
    series: [
      { label: 'step', value: (u, i) => categories[i] ?? '' },
      ...series.map(({ label, color, size }) => ({
        label, stroke: color, fill: color, width: 0,
        paths: uPlot.paths.bars({ size: [size, 120] }),
        points: { show: false },
        value: (u, v) => (v == null ? '–' : format(v)),
      })),
    ],
    axes: [
      {
        size: caption ? 64 : 30,
        grid: { show: false },
        splits: () => categories.map((_, i) => i),
        values: (u, splits) => splits.map(i => (caption ? `${categories[i]}\n${caption(u, i)}` : categories[i])),
      },
      { size: 70, incrs, values: (u, splits) => splits.map(format) },
    ],
  };
}

// ---- Pipeline health -------------------------------------------------------------------------------------------

const history = { t: [], captured: [], durable: [], lag: new Map() }; // lag: source id -> seconds, aligned with t
let lastCounters = null; // { at, bySource: Map(id -> { captured, durable }) }
const ratesChart = new Chart(document.querySelector('[data-chart="rates"]'));
const lagChart = new Chart(document.querySelector('[data-chart="lag"]'));

/** Changes per second of each source since the previous poll (none on the first, or when a counter went back). */
function measureRates(sources, at) {
  const rates = new Map();
  if (lastCounters) {
    const seconds = (at - lastCounters.at) / 1000;
    for (const s of sources) {
      const before = lastCounters.bySource.get(s.id);
      if (before && s.changesCaptured >= before.captured && s.changesDurable >= before.durable) {
        rates.set(s.id, {
          captured: (s.changesCaptured - before.captured) / seconds,
          durable: (s.changesDurable - before.durable) / seconds,
        });
      }
    }
  }
  lastCounters = { at, bySource: new Map(sources.map(s => [s.id, { captured: s.changesCaptured, durable: s.changesDurable }])) };
  return rates;
}

function record(sources, rates, at) {
  const total = key => (rates.size ? [...rates.values()].reduce((sum, r) => sum + r[key], 0) : null);
  history.t.push(at / 1000);
  history.captured.push(total('captured'));
  history.durable.push(total('durable'));
  const lagNow = new Map(sources.map(s => [s.id, s.lagSeconds]));
  for (const id of lagNow.keys()) {
    if (!history.lag.has(id)) history.lag.set(id, new Array(history.t.length - 1).fill(null));
  }
  for (const [id, values] of history.lag) values.push(lagNow.get(id) ?? null);
  const excess = history.t.length - HISTORY_POINTS;
  if (excess > 0) {
    for (const values of [history.t, history.captured, history.durable, ...history.lag.values()]) values.splice(0, excess);
  }
}

function drawPipelineCharts() {
  ratesChart.draw('rates', () => timeOptions(
    [line('captured/s', COLORS.captured, fmtRate), line('durable/s', COLORS.durable, fmtRate)], fmtRate),
  [history.t, history.captured, history.durable]);
  const ids = [...history.lag.keys()];
  lagChart.draw(ids.join('\n'), () => timeOptions(
    ids.map((id, i) => line(id, PALETTE[i % PALETTE.length], v => `${decimal.format(v)} s`)), v => `${decimal.format(v)} s`),
  [history.t, ...history.lag.values()]);
}

function renderSources(sources, rates, now) {
  const body = document.querySelector('#sources tbody');
  const columns = document.querySelectorAll('#sources thead th').length;
  const rows = [];
  for (const s of sources) {
    const rate = rates.get(s.id);
    rows.push(el('tr', { 'data-source': s.id },
      el('th', { scope: 'row' }, s.id, el('span', { class: 'sub' }, s.kind)),
      td(el('span', { class: `state state-${s.state}` }, s.state)),
      td(el('span', {}, s.tables.join(', ') || '–', el('span', { class: 'sub' }, `${s.tables.length} × ${s.partitions} partitions`))),
      num(fmtCount(s.changesCaptured)), num(fmtCount(s.changesDurable)),
      num(fmtRate(rate?.captured)), num(fmtRate(rate?.durable)), num(fmtCount(s.filesWritten)),
      num(el('span', {}, `${decimal.format(s.lagSeconds)} s`, el('span', { class: 'sub' }, fmtBytes(s.lagBytes)))),
      num(fmtBytes(s.retainedWalBytes)),
      timeCell(s.lastCommitTime, now), timeCell(s.completeUpTo, now),
      td(el('span', { class: 'mono' }, s.slot, el('span', { class: 'sub' }, s.confirmedLsn)))));
    if (s.alerts.length || s.error) {
      rows.push(el('tr', { class: 'problems' }, el('td', { colspan: columns },
        el('ul', {}, ...s.alerts.map(a => el('li', { class: 'alert' }, a)), s.error && el('li', { class: 'error' }, s.error)))));
    }
    if (s.snapshot.some(t => !t.completed)) {
      rows.push(el('tr', { class: 'snapshot' }, el('td', { colspan: columns },
        el('span', { class: 'sub' }, 'Initial snapshot'),
        ...s.snapshot.map(t => el('div', { class: 'progress' },
          el('label', {}, t.table, el('progress', { max: t.chunksTotal || 1, value: t.chunksDone })),
          el('span', {}, `${t.chunksDone}/${t.chunksTotal} chunks · ${fmtCount(t.rows)} rows`
            + (t.completed ? ' · done' : ` · ${fmtRate(t.rowsPerSecond)} rows/s`)))))));
    }
  }
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: columns, class: 'empty' }, 'No sources registered.')));
  body.replaceChildren(...rows);

  const problems = sources.flatMap(s => [
    ...s.alerts.map(a => `${s.id}: ${a}`),
    ...(s.state === 'Failed' ? [`${s.id} failed${s.error ? `: ${s.error}` : ''}`] : []),
  ]);
  const banner = document.getElementById('alerts');
  banner.hidden = !problems.length;
  banner.replaceChildren(...problems.map(p => el('p', {}, p)));
}

// ---- Lake completeness -----------------------------------------------------------------------------------------

/** A table's Iceberg state: snapshots kept, live data and delete files, files waiting, a failing commit; "–" for other formats. */
function icebergCell(iceberg) {
  if (!iceberg) return td('–', 'muted');
  if (iceberg.snapshotId == null) return td(`no snapshot yet (${iceberg.pendingFiles} files waiting)`, 'muted');
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const cell = td(`${plural(iceberg.snapshots, 'snapshot')} · ${plural(iceberg.dataFiles, 'data file')} · ${plural(iceberg.deleteFiles, 'delete file')}`
    + (iceberg.pendingFiles ? ` · ${iceberg.pendingFiles} waiting` : '')
    + (iceberg.lastError ? ` · commit failing: ${iceberg.lastError}` : ''));
  cell.classList.add('iceberg');
  if (iceberg.lastError) cell.classList.add('error');
  cell.dataset.snapshots = String(iceberg.snapshots);
  cell.title = iceberg.mirrorMetadataLocation ?? '';
  return cell;
}

async function refreshCompleteness(sources, now) {
  const answers = await Promise.all(sources.flatMap(s => s.tables.map(async table => ({
    source: s.id, table,
    completeness: await getJson(`api/lake/${segment(s.id)}/${segment(table)}/completeness`, { allow404: true }),
    iceberg: await getJson(`api/lake/${segment(s.id)}/${segment(table)}/iceberg`, { allow404: true }),
  }))));
  const rows = answers.map(({ source, table, completeness, iceberg }) => {
    const upTo = completeness?.completeUpTo;
    return el('tr', {},
      td(source), td(table),
      completeness == null ? td('unknown table', 'muted')
        : upTo ? timeCell(upTo, now) : td('not yet (snapshot running or nothing captured)', 'muted'),
      num(upTo ? fmtDuration(Math.max(0, now - Date.parse(upTo))) : '–'),
      icebergCell(iceberg),
      num(iceberg?.lastCommit ? fmtDuration(Math.max(0, now - Date.parse(iceberg.lastCommit))) + ' ago' : '–'));
  });
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No tables captured.')));
  document.querySelector('#completeness tbody').replaceChildren(...rows);
}

// ---- Processes -------------------------------------------------------------------------------------------------

const processViews = new Map();

/** The panel of one business process; built once so that the lookup field keeps what is typed into it. */
class ProcessView {
  constructor(name) {
    this.name = name;
    this.firstSeen = null; // breach id -> when this page first showed it; null until the first render
    this.root = document.getElementById('process-template').content.firstElementChild.cloneNode(true);
    this.root.dataset.process = name;
    this.root.querySelector('h3').textContent = name;
    this.charts = {};
    for (const [role, description] of [['funnel', 'instances reaching each step'],
      ['cycle', 'cycle time per step'], ['series', 'started, completed and breached per minute']]) {
      const container = this.root.querySelector(`[data-role="${role}"]`);
      container.dataset.chart = `${role}-${name}`;
      container.setAttribute('aria-label', `${name}: ${description}`);
      this.charts[role] = new Chart(container);
    }
    const form = this.root.querySelector('form.lookup');
    form.addEventListener('submit', event => {
      event.preventDefault();
      this.lookUp(form.elements.key.value.trim());
    });
  }

  update(process, series, breaches, now) {
    const { stats } = process;
    this.root.querySelector('.counters').replaceChildren(...[
      ['started', fmtCount(stats.started)], ['completed', fmtCount(stats.completed)],
      ['in flight', fmtCount(stats.inFlight)], ['breached', fmtCount(stats.breached)],
      ['late events', fmtCount(stats.lateEvents)], ['unmatched events', fmtCount(stats.unmatchedEvents)],
      ['watermark', fmtTime(stats.watermark)],
      ['partitions', fmtCount(process.partitions)],
    ].map(([label, value]) => el('span', { class: label === 'breached' && stats.breached ? 'counter bad' : 'counter' },
      el('span', { class: 'sub' }, label), value)));

    const names = process.steps.map(s => s.name);
    const stepStats = new Map(stats.steps.map(s => [s.step, s]));
    const x = names.map((_, i) => i);
    const pick = f => names.map(n => (stepStats.has(n) ? f(stepStats.get(n)) : null));
    const shape = names.join('\n');
    this.charts.funnel.draw(shape, () => categoryOptions(names, [
      { label: 'reached', color: COLORS.reached, size: 0.7 },
      { label: 'breached', color: COLORS.breached, size: 0.3 },
    ], fmtCount, {
      incrs: COUNT_INCRS,
      caption: (u, i) => fmtCount(u.data[1][i]) + (u.data[2][i] ? `\n${fmtCount(u.data[2][i])} breached` : ''),
    }), [x, pick(s => s.reached), pick(s => s.breached)]);
    this.charts.cycle.draw(shape, () => categoryOptions(names, [
      { label: 'p99', color: COLORS.p99, size: 0.7 },
      { label: 'p95', color: COLORS.p95, size: 0.45 },
      { label: 'p50', color: COLORS.p50, size: 0.2 },
    ], fmtDurationShort, { incrs: DURATION_INCRS }), [x, pick(s => s.cycleTime?.p99Ms), pick(s => s.cycleTime?.p95Ms), pick(s => s.cycleTime?.p50Ms)]);
    this.charts.series.draw('series', () => timeOptions([
      line('started', COLORS.started, fmtCount), line('completed', COLORS.completed, fmtCount),
      line('breached', COLORS.breached, fmtCount),
    ], fmtCount, COUNT_INCRS), [
      series.minutes.map(m => Date.parse(m.minute) / 1000),
      series.minutes.map(m => m.started), series.minutes.map(m => m.completed), series.minutes.map(m => m.breached),
    ]);

    // as the API defines them: operations default to insert, and without a marked terminal step the last one is
    const anyTerminal = process.steps.some(step => step.terminal);
    this.root.querySelector('.steps tbody').replaceChildren(...process.steps.map((step, i) => {
      const stat = stepStats.get(step.name);
      const cycle = stat?.cycleTime;
      const terminal = anyTerminal ? step.terminal : i === process.steps.length - 1;
      return el('tr', {},
        el('th', { scope: 'row' }, step.name,
          step.optional && el('span', { class: 'tag' }, 'optional'), terminal && el('span', { class: 'tag' }, 'terminal')),
        td(`${step.source} / ${step.table}`), td(step.operations?.join(', ') ?? 'insert'), td(step.key, 'mono'),
        td(step.deadline ? `within ${fmtSpan(step.deadline.within)} after ${step.deadline.after}` : '–'),
        num(fmtCount(stat?.reached)), num(fmtCount(stat?.breached)),
        ...['p50Ms', 'p95Ms', 'p99Ms'].map(p => el('td', {
          class: 'num', title: cycle ? `from ${cycle.from}, ${cycle.count} instances` : null,
        }, fmtDuration(cycle?.[p]))));
    }));

    this.root.querySelector('.total').textContent = `(${fmtCount(breaches.total)} in total${
      breaches.total > breaches.items.length ? `, newest ${breaches.items.length} shown` : ''})`;
    const id = b => `${b.key}\n${b.step}\n${b.due}`;
    const seen = this.firstSeen;
    this.firstSeen = new Map(breaches.items.map(b => [id(b), seen ? seen.get(id(b)) ?? now : -Infinity]));
    const rows = breaches.items.map(b => el('tr', {
      class: now - this.firstSeen.get(id(b)) < FRESH_MS ? 'breach fresh' : 'breach', 'data-key': b.key,
    }, td(b.key, 'mono'), td(b.step), td(b.after), timeCell(b.afterTime, now), timeCell(b.due, now), timeCell(b.detectedAt, now)));
    if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 6, class: 'empty' }, 'No breaches.')));
    this.root.querySelector('.breaches tbody').replaceChildren(...rows);
  }

  async lookUp(key) {
    const out = this.root.querySelector('.instance');
    if (!key) return;
    out.replaceChildren(el('p', { class: 'muted' }, `Looking up ${key}…`));
    try {
      const instance = await getJson(`api/processes/${segment(this.name)}/instances/${segment(key)}`, { allow404: true });
      if (!instance) {
        out.replaceChildren(el('p', { class: 'muted' }, `${key}: not found`));
        return;
      }
      out.replaceChildren(
        el('p', {}, el('span', { class: 'mono' }, instance.key), ' ',
          el('span', { class: `state state-${instance.status}` }, instance.status), ` started ${fmtTime(instance.startedAt)}`),
        el('ol', { class: 'timeline' }, ...instance.steps.map(s => el('li', {}, `${s.step} — ${fmtTime(s.at)}`))),
        instance.breaches.length ? el('ul', {}, ...instance.breaches.map(b => el('li', { class: 'error' },
          `breached ${b.step}: due ${fmtTime(b.due)} (counted from ${b.after}), detected ${fmtTime(b.detectedAt)}`)))
          : null);
    } catch (error) {
      out.replaceChildren(el('p', { class: 'error' }, `Lookup failed: ${error.message}`));
    }
  }

  remove() {
    Object.values(this.charts).forEach(c => c.destroy());
    this.root.remove();
  }
}

async function refreshProcesses(processes, now, settle) {
  const section = document.getElementById('processes');
  section.querySelector('[data-empty]').hidden = processes.length > 0;
  for (const [name, view] of processViews) {
    if (!processes.some(p => p.name === name)) {
      view.remove();
      processViews.delete(name);
    }
  }
  for (const process of processes) {
    if (!processViews.has(process.name)) {
      const view = new ProcessView(process.name);
      processViews.set(process.name, view);
      section.append(view.root);
    }
  }
  await Promise.all(processes.map(process => settle((async () => {
    const base = `api/processes/${segment(process.name)}`;
    const [series, breaches] = await Promise.all([
      getJson(`${base}/series?minutes=60`), getJson(`${base}/breaches?offset=0&limit=20`)]);
    processViews.get(process.name).update(process, series, breaches, now);
  })())));
}

// ---- Polling and auth ------------------------------------------------------------------------------------------

/** One refresh of everything; returns what failed (nothing means every endpoint answered). */
async function poll() {
  const failures = [];
  const settle = promise => promise.catch(error => { failures.push(error); });
  const now = Date.now();
  const [sources, processes] = await Promise.all([
    settle(getJson('api/sources')), settle(getJson('api/processes'))]);
  if (sources) {
    const rates = measureRates(sources, now);
    record(sources, rates, now);
    renderSources(sources, rates, now);
    drawPipelineCharts();
  }
  await Promise.all([
    sources && settle(refreshCompleteness(sources, now)),
    processes && refreshProcesses(processes, now, settle),
  ]);
  return failures;
}

function showStatus(failures) {
  const status = document.getElementById('status');
  const unauthorized = failures.find(f => f.status === 401 || f.status === 403);
  const failure = unauthorized ?? failures[0];
  status.classList.toggle('error', failure != null);
  status.textContent = failure == null ? `Live · updated ${new Date().toLocaleTimeString()}`
    : failure instanceof HttpError ? failure.message
      : `dashboard error: ${failure.message}`; // e.g. an answer this page does not understand
}

async function loop() {
  const started = performance.now();
  try {
    const failures = await poll();
    showStatus(failures);
    if (!failures.length) document.body.dataset.ready = 'true';
  } catch (error) {
    showStatus([error]);
    throw error; // a bug: let the browser report it, and keep polling
  } finally {
    setTimeout(loop, Math.max(0, POLL_MS - (performance.now() - started)));
  }
}

function setUpAuth() {
  const form = document.getElementById('auth');
  const input = document.getElementById('token');
  const describe = () => {
    input.placeholder = sessionStorage.getItem(TOKEN_KEY) ? 'set for this tab' : 'only if the silo asks for one';
  };
  form.addEventListener('submit', event => {
    event.preventDefault();
    if (input.value) sessionStorage.setItem(TOKEN_KEY, input.value);
    input.value = '';
    describe();
  });
  document.getElementById('token-clear').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    input.value = '';
    describe();
  });
  describe();
}

setUpAuth();
loop();
