import { describe, expect, it } from 'vitest';
import { applyFilters } from '../../src/inference/filters.js';

const d = (label: string, score: number) => ({ label, classId: 0, score });

describe('applyFilters', () => {
  const results = [d('cat', 0.4), d('dog', 0.7), d('person', 0.55), d('car', 0.9)];

  it('drops results below minScore and sorts by score', () => {
    const out = applyFilters(results, { minScore: 0.5, labels: [], perLabel: {}, maxResults: 10 });
    expect(out.map((r) => r.label)).toEqual(['car', 'dog', 'person']);
  });

  it('keeps only allowed labels and lets perLabel override minScore both ways', () => {
    const out = applyFilters(results, { minScore: 0.5, labels: ['cat', 'dog', 'person'], perLabel: { cat: 0.3, person: 0.6 }, maxResults: 10 });
    expect(out.map((r) => r.label)).toEqual(['dog', 'cat']);
  });

  it('caps the number of results, keeping the best', () => {
    const out = applyFilters(results, { minScore: 0, labels: [], perLabel: {}, maxResults: 2 });
    expect(out.map((r) => r.label)).toEqual(['car', 'dog']);
  });
});
