/**
 * The live page: one HTML string with inline CSS and JS, no build step and no libraries. It polls `/api/stats` and
 * `/snapshot.jpg` once a second; every value from the daemon is written with textContent, never as HTML.
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
  main { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
  section { background: #1b1b1b; border: 1px solid #333; border-radius: 6px; padding: .75rem; }
  #frame img { display: block; max-width: 640px; width: 100%; background: #000; min-height: 120px; }
  dl { display: grid; grid-template-columns: auto auto; gap: .2rem 1rem; margin: 0; }
  dt { color: #999; } dd { margin: 0; font-variant-numeric: tabular-nums; text-align: right; }
  table { border-collapse: collapse; margin-top: .5rem; font-variant-numeric: tabular-nums; }
  th, td { padding: .15rem .5rem; text-align: right; } th:first-child, td:first-child { text-align: left; }
  th { color: #999; font-weight: normal; }
  svg { background: #151515; display: block; }
  .muted { color: #888; } .bad { color: #f77; } .good { color: #7d7; }
</style>
</head>
<body>
<h1>mobilenet-edge <span id="status" class="muted">connecting…</span></h1>
<main>
  <section id="frame">
    <img id="snapshot" alt="latest annotated frame">
    <div class="muted"><span id="snapshot-camera">no frame yet</span> <span id="snapshot-time"></span></div>
  </section>
  <section id="numbers">
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
    <table id="cameras"><thead><tr><th>camera</th><th>fps</th><th>captured</th><th>dropped</th><th>errors</th></tr></thead><tbody></tbody></table>
  </section>
  <section id="chart">
    <div class="muted">inference p50 (ms), last <span id="chart-n">0</span> intervals, max <span id="chart-max">–</span></div>
    <svg id="latency-chart" width="320" height="120" viewBox="0 0 320 120" role="img" aria-label="inference p50 over time">
      <polyline id="latency-line" fill="none" stroke="#6af" stroke-width="2" points=""></polyline>
    </svg>
  </section>
</main>
<script>
(() => {
  const HISTORY = 60;
  const W = 320, H = 120, PAD = 6;
  const history = [];
  let lastTs = '';
  let objectUrl = '';
  const $ = (id) => document.getElementById(id);
  const set = (id, text, cls) => { const el = $(id); el.textContent = text; if (cls !== undefined) el.className = cls; };
  const num = (n, d) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(d) : '–');
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);

  function renderChart() {
    const max = Math.max(1, ...history) * 1.1;
    const step = history.length > 1 ? (W - 2 * PAD) / (HISTORY - 1) : 0;
    const pts = history.map((v, i) => (PAD + i * step).toFixed(1) + ',' + (H - PAD - (v / max) * (H - 2 * PAD)).toFixed(1));
    $('latency-line').setAttribute('points', pts.join(' '));
    set('chart-n', String(history.length));
    set('chart-max', history.length ? num(Math.max(...history), 1) : '–');
  }

  function renderCameras(cameras) {
    const body = $('cameras').tBodies[0];
    body.replaceChildren();
    for (const [name, c] of Object.entries(cameras)) {
      const tr = document.createElement('tr');
      for (const v of [name, num(c.fps.processed, 1), num(c.fps.captured, 1), String(c.totals.dropped), String(c.totals.errors)]) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }

  function render(s) {
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
    renderCameras(s.cameras || {});
    if (s.ts !== lastTs) {
      lastTs = s.ts;
      history.push(s.detector.inferenceMs.p50);
      if (history.length > HISTORY) history.shift();
      renderChart();
    }
    set('status', 'stats of ' + s.ts, 'muted');
  }

  async function pollStats() {
    try {
      const r = await fetch('/api/stats', { cache: 'no-store' });
      if (r.status === 404) return set('status', 'waiting for the first stats interval', 'muted');
      if (!r.ok) return set('status', 'stats: HTTP ' + r.status, 'bad');
      render(await r.json());
    } catch (e) {
      set('status', 'daemon unreachable', 'bad');
    }
  }

  async function pollSnapshot() {
    try {
      const r = await fetch('/snapshot.jpg', { cache: 'no-store' });
      if (!r.ok) return;
      const url = URL.createObjectURL(await r.blob());
      const img = $('snapshot');
      img.onload = () => { if (objectUrl && objectUrl !== url) URL.revokeObjectURL(objectUrl); objectUrl = url; };
      img.src = url;
      set('snapshot-camera', decodeURIComponent(r.headers.get('x-camera') || ''));
      set('snapshot-time', decodeURIComponent(r.headers.get('x-frame-time') || ''));
    } catch (e) {
      /* the stats poll reports an unreachable daemon */
    }
  }

  function loop(fn) {
    const tick = async () => { await fn(); setTimeout(tick, 1000); };
    tick();
  }
  loop(pollStats);
  loop(pollSnapshot);
})();
</script>
</body>
</html>
`;
