import type { InspectReport, LayerCost, LayerType } from './types.js';

const TYPE_LABELS: Record<LayerType, string> = {
  conv1x1: 'conv 1x1',
  depthwise: 'depthwise',
  conv: 'conv (full)',
  fullyConnected: 'fully connected',
  other: 'other',
};

const int = (n: number) => n.toLocaleString('en-US');
const millions = (n: number | null, digits = 2) => (n === null ? 'unknown' : `${(n / 1e6).toFixed(digits)} M`);
const percent = (f: number) => `${(f * 100).toFixed(2)}%`;
const dims = (shape: number[]) => (shape.length ? shape.join('x') : '-');
const pair = (p: [number, number] | undefined) => (p ? `${p[0]}x${p[1]}` : '');

/** Columns padded to their widest cell; columns listed in `right` are right-aligned (numbers). */
function table(rows: string[][], right: Set<number>, indent = '  '): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) => indent + r.map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd())
    .join('\n') + '\n';
}

/** Keeps the last two path segments of a layer name: enough to find it, short enough for a table. */
const shortName = (name: string | undefined) => (name ?? '').split('/').slice(-2).join('/');

function layerTable(layers: LayerCost[]): string {
  const head = ['#', 'op', 'type', 'input', 'output', 'kernel', 'stride', 'pad', 'mult-adds', 'params', 'layer'];
  const rows = layers.map((l) => [
    String(l.index), l.op, l.runsOn === 'tpu' ? 'on the TPU' : TYPE_LABELS[l.type], dims(l.input), dims(l.output),
    pair(l.kernel), pair(l.stride), l.padding ?? '',
    l.macs === null ? '?' : int(l.macs), l.params === null ? '?' : int(l.params), shortName(l.name),
  ]);
  return table([head, ...rows], new Set([0, 8, 9]));
}

function byTypeTable(r: InspectReport): string {
  const paper: LayerType[] = ['conv1x1', 'depthwise', 'conv', 'fullyConnected'];
  const rows = paper.map((t) => {
    const c = r.byType[t];
    return [TYPE_LABELS[t], `${c.layers}`, int(c.macs), percent(c.macsShare), int(c.params), percent(c.paramsShare)];
  });
  const other = r.byType.other.layers;
  return (
    table([['type', 'layers', 'mult-adds', 'share', 'params', 'share'], ...rows], new Set([1, 2, 3, 4, 5])) +
    (other ? `  + ${other} other operators (pooling, add, reshape, softmax, ...): 0 mult-adds by convention\n` : '')
  );
}

function pairsSection(r: InspectReport): string {
  if (r.separablePairs.length === 0) return '';
  const rows = r.separablePairs.map((p) => [
    `${p.depthwise}+${p.pointwise}`, pair(p.kernel), `${p.inChannels}->${p.outChannels}`,
    int(p.macs), int(p.standardMacs), p.reduction.toFixed(4), p.predicted.toFixed(4),
  ]);
  const sep = r.separablePairs.reduce((a, p) => a + p.macs, 0);
  const std = r.separablePairs.reduce((a, p) => a + p.standardMacs, 0);
  return (
    `\nDepthwise separable pairs against one standard conv of the same shapes (paper: ratio = 1/N + 1/Dk^2)${r.edgetpu ? ', operator numbers of the CPU twin' : ''}:\n` +
    table([['dw+pw', 'kernel', 'M->N', 'separable', 'standard', 'measured', '1/N+1/Dk^2'], ...rows], new Set([3, 4, 5, 6])) +
    `  ${r.separablePairs.length} pairs: ${millions(sep)} mult-adds instead of ${millions(std)} (${(std / sep).toFixed(1)}x fewer)\n`
  );
}

function header(r: InspectReport): string {
  const lines = [`${r.model}${r.sizeBytes !== undefined ? ` (${int(r.sizeBytes)} bytes)` : ''}`];
  // rho is the paper's resolution multiplier, relative to the classifiers' 224; it means nothing for a detector.
  const rho = r.resolution !== null && r.family.startsWith('MobileNet') ? ` (rho = ${(r.resolution / 224).toFixed(3)})` : '';
  const res = r.resolution !== null ? `, input ${r.resolution}x${r.resolution}${rho}` : '';
  const alpha = r.alpha === null ? '' : r.path !== undefined ? `, alpha ~ ${r.alpha} (estimated from channel counts)` : `, alpha ${r.alpha}`;
  lines.push(`Family:        ${r.family}${alpha}${res}`);
  lines.push(`Costs from:    ${r.costFrom}`);
  const q = r.quantization;
  if (q) {
    const input = q.input.scale !== undefined ? `; input scale ${q.input.scale}, zero point ${q.input.zeroPoint}` : '';
    const weights =
      q.weights ? `${q.weights} weights (${q.granularity}), `
      : r.edgetpu ? 'weights hidden in the Edge TPU payload, '
      : 'no weight tensors, ';
    lines.push(`Quantization:  ${weights}${q.activations} activations${input}`);
  }
  const e = r.edgetpu;
  if (e) {
    const payload = e.customOps.map((c) => `${int(c.payloadBytes)} bytes`).join(', ');
    lines.push(`Edge TPU:      ${e.customOps.length} edgetpu-custom-op, compiled payload ${payload}; the layers inside are not visible`);
    lines.push(`               on the TPU: ${e.twin ? `${millions(e.tpuMacs)} mult-adds, ${millions(e.tpuParams, 3)} parameters (from the CPU twin)` : 'cost unknown (no CPU twin beside this file)'}`);
    lines.push(`               on the CPU: ${e.cpuOps.length ? e.cpuOps.join(', ') : 'nothing, the whole graph runs on the TPU'}`);
  }
  const m = r.metadata;
  if (m) {
    if (m.name || m.description) lines.push(`Metadata:      ${[m.name, m.description].filter(Boolean).join(': ')}`);
    if (m.normalization) lines.push(`Normalisation: (x - ${m.normalization.mean.join(',')}) / ${m.normalization.std.join(',')}`);
    // ImageNet labels hold commas ("tench, Tinca tinca"): quote them.
    if (m.labels) lines.push(`Labels:        ${m.labels.count} embedded (${m.labels.first.slice(0, 3).map((l) => JSON.stringify(l)).join(', ')}, ...)`);
  }
  return lines.join('\n') + '\n';
}

export function formatReport(r: InspectReport): string {
  const t = r.totals;
  const totals =
    `Total: ${millions(t.macs)} mult-adds, ${millions(t.params, 3)} parameters` +
    (t.macs !== null && t.params !== null ? ` (${int(t.macs)} / ${int(t.params)})` : '') + '\n';
  const twinNote = r.edgetpu?.twin ? ' (of the CPU twin: run inspect on it for its layers)' : '';
  return [
    header(r),
    layerTable(r.layers),
    totals,
    t.macs === null ? '' : `By layer type, as in the paper's Table 2${twinNote}:\n${byTypeTable(r)}`,
    pairsSection(r),
  ].join('\n').replace(/\n{3,}/g, '\n\n');
}
