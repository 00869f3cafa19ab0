import { readFile } from 'node:fs/promises';
import type { StrideRule } from '../pixels/i420-layout.js';

export const DEVICE_TREE_MODEL = '/proc/device-tree/model';

/** The stride rule of the board named in /proc/device-tree/model ("Raspberry Pi 5 Model B Rev 1.0\0"). */
export function strideRuleForModel(model: string): StrideRule {
  if (/Raspberry Pi (5|500)\b|Raspberry Pi Compute Module 5/i.test(model)) return 'pi5';
  if (/Raspberry Pi/i.test(model)) return 'pi4';
  return 'none';
}

/** Reads the board model; null off a Pi (no device tree: a PC running the tests with a fake rpicam-vid). */
export async function readBoardModel(path = DEVICE_TREE_MODEL): Promise<string | null> {
  try {
    return (await readFile(path, 'latin1')).replace(/\0+$/, '').trim();
  } catch {
    return null;
  }
}
