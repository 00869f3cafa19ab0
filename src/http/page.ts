/**
 * The live page: one HTML string with inline CSS and JS, no build step and no libraries. Every second it polls
 * `/api/live` (each camera's state, counters and recent latency: the chart moves from the first second, not after a
 * stats interval) and each camera's `/snapshot.jpg?camera=NAME` (the latest processed frame with its boxes, snapshots
 * on or off); `/api/stats` fills the interval numbers. Every value from the daemon is written with textContent, never
 * as HTML; times are shown in the viewer's local time.
 */
export const LIVE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mobilenet-edge</title>
<link rel="icon" href="data:,">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem; background: #111; color: #ddd; }
  h1 { font-size: 1.1rem; margin: 0 0 .5rem; }
  h2 { font-size: 1rem; margin: 0 0 .4rem; font-weight: 600; }
  main { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
  section { background: #1b1b1b; border: 1px solid #333; border-radius: 6px; padding: .75rem; }
  #tiles { display: flex; flex-wrap: wrap; gap: 1rem; width: 100%; }
  .tile { flex: 1 1 320px; max-width: 660px; }
  .tile img { display: block; width: 100%; background: #000; min-height: 120px; }
  .tile .caption { display: flex; flex-wrap: wrap; gap: .2rem 1rem; margin-top: .3rem; font-variant-numeric: tabular-nums; }
  dl { display: grid; grid-template-columns: auto auto; gap: .2rem 1rem; margin: 0; }
  dt { color: #999; } dd { margin: 0; font-variant-numeric: tabular-nums; text-align: right; }
  svg { background: #151515; display: block; }
  svg text { fill: #888; font-size: 10px; }
  .muted { color: #888; } .bad { color: #f77; } .good { color: #7d7; } .warn { color: #fc6; }
</style>
</head>
<body>
<h1>mobilenet-edge <span id="status" class="muted">connecting…</span></h1>
<main>
  <div id="tiles"><section class="muted" id="no-cameras">waiting for the daemon…</section></div>
  <section id="chart">
    <h2>inference time per frame (ms), median of the last frames, last 5 minutes</h2>
    <svg id="latency-chart" width="480" height="180" viewBox="0 0 480 180" role="img" aria-label="inference time over the last 5 minutes">
      <g id="grid"></g><g id="lines"></g>
    </svg>
    <div id="legend" class="muted"></div>
  </section>
  <section id="numbers">
    <h2>last stats interval <span id="interval-time" class="muted"></span></h2>
    <dl>
      <dt>backend</dt><dd id="backend">–</dd>
      <dt>inference p50 (ms)</dt><dd id="inference-p50">–</dd>
      <dt>inference p95 (ms)</dt><dd id="inference-p95">–</dd>
      <dt>inferences</dt><dd id="inferences">–</dd>
      <dt>fps processed</dt><dd id="fps-processed">–</dd>
      <dt>fps captured</dt><dd id="fps-captured">–</dd>
      <dt>frames dropped</dt><dd id="dropped">–</dd>
      <dt>MQTT connected</dt><dd id="mqtt-connected">–</dd>
      <dt>outbox queued</dt><dd id="mqtt-queued">–</dd>
      <dt>dropped offline</dt><dd id="mqtt-dropped">–</dd>
    </dl>
  </section>
</main>
<script>
(() => {
  const WINDOW_S = 300;
  const W = 480, H = 180, L = 40, R = 8, T = 8, B = 22;
  const COLOURS = ['#6af', '#fa6', '#7d7', '#f7a', '#c9f', '#ee6'];
  const series = new Map();
  const tiles = new Map();
  const lastTotals = new Map();
  const $ = (id) => document.getElementById(id);
  const set = (el, text, cls) => { const e = typeof el === 'string' ? $(el) : el; e.textContent = text; if (cls !== undefined) e.className = cls; };
  const num = (n, d) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(d) : '–');
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  const localTime = (iso) => { const d = new Date(iso); return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString(); };
  const svg = (name, attrs, text) => {
    const e = document.createElementNS('http://www.w3.org/2000/svg', name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };

  function tile(name) {
    let t = tiles.get(name);
    if (t) return t;
    $('no-cameras')?.remove();
    const section = document.createElement('section');
    section.className = 'tile';
    section.dataset.camera = name;
    const h = document.createElement('h2');
    h.textContent = name;
    const img = document.createElement('img');
    img.alt = 'latest frame of ' + name;
    const caption = document.createElement('div');
    caption.className = 'caption';
    const fields = {};
    for (const k of ['state', 'detect', 'motion', 'fps', 'latency', 'time']) {
      fields[k] = document.createElement('span');
      fields[k].className = 'muted';
      caption.appendChild(fields[k]);
    }
    section.append(h, img, caption);
    $('tiles').appendChild(section);
    t = { img, fields, url: '' };
    tiles.set(name, t);
    pollFrame(name);
    return t;
  }

  function renderLive(live) {
    const now = Date.now();
    for (const [name, c] of Object.entries(live.cameras)) {
      const t = tile(name);
      const good = c.state === 'online';
      set(t.fields.state, c.state + (c.reason && !good ? ': ' + c.reason : ''), good ? 'good' : c.state === 'starting' ? 'muted' : 'bad');
      set(t.fields.detect, c.detecting ? 'detecting' : 'detection paused', c.detecting ? 'muted' : 'warn');
      // Motion gating: the picture outlines motion (red dashes) and the regions detected (white dashes).
      if (c.motion) set(t.fields.motion, 'motion ' + c.motion.state + ' · detected ' + c.motion.detectorRuns + ', still ' + c.motion.skipped + ' frames', c.motion.state === 'ON' ? 'warn' : 'muted');
      else set(t.fields.motion, '');
      const prev = lastTotals.get(name);
      if (prev) set(t.fields.fps, num((c.totals.processed - prev.processed) / Math.max(0.001, (now - prev.at) / 1000), 1) + ' fps', 'muted');
      lastTotals.set(name, { processed: c.totals.processed, at: now });
      set(t.fields.latency, 'inference ' + num(c.recent.inferenceMs, 1) + ' ms, end to end ' + num(c.recent.totalMs, 1) + ' ms', 'muted');
      const s = series.get(name) || [];
      if (typeof c.recent.inferenceMs === 'number') s.push({ at: now, v: c.recent.inferenceMs });
      while (s.length && s[0].at < now - WINDOW_S * 1000) s.shift();
      series.set(name, s);
    }
    renderChart(now);
    set('status', live.backend + ' · MQTT ' + live.mqtt.state + ' · ' + localTime(live.ts), live.mqtt.state === 'connected' ? 'muted' : 'bad');
  }

  function renderChart(now) {
    const all = [...series.values()].flat().map((p) => p.v);
    const top = niceMax(all.length ? Math.max(...all) : 1);
    const x = (at) => L + (W - L - R) * (1 - (now - at) / (WINDOW_S * 1000));
    const y = (v) => H - B - (H - T - B) * (v / top);
    const grid = $('grid');
    grid.replaceChildren();
    for (const f of [0, 0.5, 1]) {
      grid.append(svg('line', { x1: L, x2: W - R, y1: y(top * f), y2: y(top * f), stroke: '#2a2a2a' }));
      grid.append(svg('text', { x: L - 4, y: y(top * f) + 3, 'text-anchor': 'end' }, num(top * f, top < 10 ? 1 : 0)));
    }
    for (const [s, label] of [[WINDOW_S, '-5 min'], [WINDOW_S / 2, '-2.5 min'], [0, 'now']]) {
      grid.append(svg('text', { x: x(now - s * 1000), y: H - 6, 'text-anchor': s === 0 ? 'end' : s === WINDOW_S ? 'start' : 'middle' }, label));
    }
    const lines = $('lines');
    lines.replaceChildren();
    const legend = $('legend');
    legend.replaceChildren();
    [...series.entries()].forEach(([name, s], i) => {
      const colour = COLOURS[i % COLOURS.length];
      const points = s.map((p) => x(p.at).toFixed(1) + ',' + y(p.v).toFixed(1)).join(' ');
      lines.append(svg('polyline', { fill: 'none', stroke: colour, 'stroke-width': 2, points, 'data-camera': name }));
      const key = document.createElement('span');
      key.style.color = colour;
      key.textContent = '■ ' + name + '  ';
      legend.append(key);
    });
  }

  function niceMax(v) {
    const p = Math.pow(10, Math.floor(Math.log10(Math.max(v, 0.001))));
    for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  function renderStats(s) {
    const cams = Object.values(s.cameras || {});
    set('backend', s.detector.backend);
    set('inference-p50', num(s.detector.inferenceMs.p50, 1));
    set('inference-p95', num(s.detector.inferenceMs.p95, 1));
    set('inferences', String(s.detector.inferences));
    set('fps-processed', num(sum(cams.map((c) => c.fps.processed)), 1));
    set('fps-captured', num(sum(cams.map((c) => c.fps.captured)), 1));
    set('dropped', String(sum(cams.map((c) => c.totals.dropped))));
    set('mqtt-connected', s.mqtt.connected ? 'yes' : 'no', s.mqtt.connected ? 'good' : 'bad');
    set('mqtt-queued', String(s.mqtt.queued));
    set('mqtt-dropped', String(s.mqtt.droppedOffline));
    set('interval-time', '(' + localTime(s.ts) + ')', 'muted');
  }

  async function pollLive() {
    try {
      const r = await fetch('/api/live', { cache: 'no-store' });
      if (!r.ok) return set('status', 'live: HTTP ' + r.status, 'bad');
      renderLive(await r.json());
    } catch (e) {
      set('status', 'daemon unreachable', 'bad');
    }
  }

  async function pollStats() {
    try {
      const r = await fetch('/api/stats', { cache: 'no-store' });
      if (r.status === 200) renderStats(await r.json());
    } catch (e) {
      /* pollLive reports an unreachable daemon */
    }
  }

  async function pollFrame(name) {
    const t = tiles.get(name);
    try {
      const r = await fetch('/snapshot.jpg?camera=' + encodeURIComponent(name), { cache: 'no-store' });
      if (r.status === 200) {
        const url = URL.createObjectURL(await r.blob());
        t.img.onload = () => { if (t.url && t.url !== url) URL.revokeObjectURL(t.url); t.url = url; };
        t.img.src = url;
        set(t.fields.time, 'frame of ' + localTime(decodeURIComponent(r.headers.get('x-frame-time') || '')), 'muted');
      }
    } catch (e) {
      /* pollLive reports an unreachable daemon */
    }
    setTimeout(() => pollFrame(name), 1000);
  }

  function loop(fn) {
    const tick = async () => { await fn(); setTimeout(tick, 1000); };
    tick();
  }
  loop(pollLive);
  loop(pollStats);
})();
</script>
</body>
</html>
`;
