import type { Detection } from './types.js';

export interface DetectionFilters {
  /** Results below this score are dropped, unless perLabel says otherwise for their label. */
  minScore: number;
  /** Allow-list of labels; empty means every label. */
  labels: string[];
  /** Label -> minimum score, overriding minScore for that label. */
  perLabel: Record<string, number>;
  maxResults: number;
}

/** Applies score thresholds, the label allow-list and the result cap; keeps the highest scores first. */
export function applyFilters(results: Detection[], f: DetectionFilters): Detection[] {
  const allow = f.labels.length > 0 ? new Set(f.labels) : undefined;
  const kept = results.filter((r) => {
    if (allow && !allow.has(r.label)) return false;
    const min = f.perLabel[r.label] ?? f.minScore;
    return r.score >= min;
  });
  kept.sort((a, b) => b.score - a.score);
  return kept.length > f.maxResults ? kept.slice(0, f.maxResults) : kept;
}
