import type { ModelDescription } from '../inference/model/types.js';

/** Who feeds whom in subgraph 0, by operator index. */
export interface OpGraph {
  /** Operators that read the first output of operator i. */
  consumers(i: number): number[];
  /** The operator that writes the first input of operator i (undefined for graph inputs and constants). */
  producerOfInput(i: number): number | undefined;
}

export function modelGraph(model: ModelDescription): OpGraph {
  const writer = new Map<number, number>();
  const readers = new Map<number, number[]>();
  for (const op of model.operators) {
    for (const t of op.outputs) writer.set(t, op.index);
    for (const t of op.inputs) if (t >= 0) readers.set(t, [...(readers.get(t) ?? []), op.index]);
  }
  return {
    consumers: (i) => {
      const out = model.operators[i]?.outputs[0];
      return out === undefined ? [] : (readers.get(out) ?? []);
    },
    producerOfInput: (i) => {
      const input = model.operators[i]?.inputs[0];
      return input === undefined ? undefined : writer.get(input);
    },
  };
}

/** A plain chain, each layer feeding the next: the shape of the analytic networks. */
export function chainGraph(length: number): OpGraph {
  return {
    consumers: (i) => (i + 1 < length ? [i + 1] : []),
    producerOfInput: (i) => (i > 0 ? i - 1 : undefined),
  };
}
