import { readFile } from 'node:fs/promises';
import type { ModelKind } from '../types.js';
import { ModelFileError } from './errors.js';

/*
 * Label files come in a few shapes, all of which must line up with the model's class ids:
 * - one label per line, line n = class n (Coral's coco_labels.txt, the SSD's embedded labelmap.txt: line 0 "person");
 * - "N label" / "N: label" lines whose number is the class id, possibly with gaps (older Coral COCO files);
 * - ImageNet files of 1001 lines whose line 0 is "background", for models with 1001 outputs;
 * - 1000 labels for a classifier with 1001 outputs (output 0 = background): shift by one;
 * - TF detection label maps whose first line is a "???" filler before "person": shift the other way.
 * Placeholder lines ("???", "n/a", empty) hold an id's place but name nothing: such ids read as `class_<id>`.
 */

const PLACEHOLDERS = new Set(['', '???', 'n/a']);
const INDEXED_LINE = /^\s*(\d+)(?:\s*:\s*|\s+)(\S.*?)\s*$/;

function isPlaceholder(label: string | undefined): boolean {
  return label === undefined || PLACEHOLDERS.has(label.trim().toLowerCase());
}

/** Text to raw label lines: BOM and CR removed, trailing empty lines dropped, nothing else touched. */
export function splitLabelLines(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  return lines;
}

/** Lines to class-id-keyed labels: by their "N " prefixes when every line has one, else by position. */
export function parseLabelLines(lines: string[]): Map<number, string> {
  const entries = new Map<number, string>();
  const nonEmpty = lines.filter((l) => l.trim() !== '');
  const matches = nonEmpty.map((l) => INDEXED_LINE.exec(l));
  if (nonEmpty.length > 0 && matches.every((m) => m !== null)) {
    for (const m of matches) entries.set(Number(m![1]), m![2]!);
  } else {
    lines.forEach((line, i) => entries.set(i, line.trim()));
  }
  return entries;
}

/** Class ids a parsed file spans (indexed files may have gaps). */
function spannedIds(entries: Map<number, string>): number {
  let max = -1;
  for (const id of entries.keys()) max = Math.max(max, id);
  return max + 1;
}

export interface LabelOptions {
  /** Labels embedded in the model (ModelDescription.embeddedLabels). */
  embedded?: string[];
  /** Lines of a user-configured labels file; wins over the embedded ones. */
  fileLines?: string[];
  /** Classes the model can emit (classifier outputs, SSD num_classes); 0 or absent = unknown, map by position. */
  numClasses?: number;
  kind: ModelKind;
}

export class LabelMap {
  /** How many class ids the labels cover (after any background shift). */
  readonly size: number;

  /** `offset` is added to a class id to find its label: -1 for a missing background line, +1 for a leading filler. */
  private constructor(
    private readonly entries: Map<number, string>,
    private readonly offset: number,
  ) {
    this.size = Math.max(0, spannedIds(entries) - offset);
  }

  static fromLines(lines: string[], numClasses: number | undefined, kind: ModelKind): LabelMap {
    const entries = parseLabelLines(lines);
    const count = spannedIds(entries);
    let offset = 0;
    if (numClasses && numClasses > 0) {
      // SSD post-processing never emits a background class, so only classifiers get the -1 shift.
      if (kind === 'classification' && count === numClasses - 1) offset = -1;
      else if (count === numClasses + 1 && (isPlaceholder(entries.get(0)) || entries.get(0) === 'background')) offset = 1;
    }
    return new LabelMap(entries, offset);
  }

  name(classId: number): string {
    if (!Number.isInteger(classId) || classId < 0) return `class_${classId}`;
    if (this.offset === -1 && classId === 0) return 'background';
    const label = this.entries.get(classId + this.offset);
    return isPlaceholder(label) ? `class_${classId}` : label!;
  }
}

/** A class id to its name; `size` is how many class ids the labels cover. */
export type LabelLookup = ((classId: number) => string) & { readonly size: number };

/** The labels for a model: the configured file if any, else the embedded labels, else `class_<id>` names. */
export function resolveLabels(opts: LabelOptions): LabelLookup {
  const map = LabelMap.fromLines(opts.fileLines ?? opts.embedded ?? [], opts.numClasses, opts.kind);
  return Object.assign((classId: number) => map.name(classId), { size: map.size });
}

/** Reads a labels file; a missing, empty or binary file is a ModelFileError naming it. */
export async function readLabelsFile(path: string): Promise<string[]> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read: ${(err as Error).message}`;
    throw new ModelFileError(path, `labels file ${path} ${why}`, { cause: err });
  }
  if (buf.includes(0)) throw new ModelFileError(path, `labels file ${path} is not a text file`);
  const lines = splitLabelLines(buf.toString('utf8'));
  if (lines.length === 0) throw new ModelFileError(path, `labels file ${path} is empty`);
  return lines;
}
