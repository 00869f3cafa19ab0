/**
 * Keeps the config reference in docs/configuration.md in step with the schema.
 *   npx tsx scripts/config-docs.ts           print the reference
 *   npx tsx scripts/config-docs.ts --write   rewrite the block between the markers in docs/configuration.md
 *   npx tsx scripts/config-docs.ts --check   exit 1 when the block is out of date (for CI)
 *   --readme FILE                            another file instead of docs/configuration.md
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigReference } from '../src/config/index.js';

const START = '<!-- config-reference:start -->';
const END = '<!-- config-reference:end -->';
const PROJECT_README = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));

/** README text with the block replaced, or an explanation of why it cannot be. */
export function replaceBlock(readme: string, reference: string): { text: string } | { error: string } {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < 0 || end < start) {
    return { error: `the file has no "${START}" ... "${END}" markers: add them where the config reference belongs` };
  }
  return { text: `${readme.slice(0, start + START.length)}\n${reference}${readme.slice(end)}` };
}

function main(argv: string[]): number {
  const mode = argv.includes('--write') ? 'write' : argv.includes('--check') ? 'check' : 'print';
  const reference = renderConfigReference();
  const at = argv.indexOf('--readme');
  const README = at >= 0 && argv[at + 1] ? argv[at + 1] as string : PROJECT_README;
  if (mode === 'print') {
    process.stdout.write(reference);
    return 0;
  }
  if (!fs.existsSync(README)) {
    console.error(`config-docs: ${README} not found; create it with the markers ${START} and ${END}`);
    return 1;
  }
  const readme = fs.readFileSync(README, 'utf8');
  const next = replaceBlock(readme, reference);
  if ('error' in next) {
    console.error(`config-docs: ${next.error}`);
    return 1;
  }
  if (next.text === readme) {
    console.log(`config-docs: ${README} is up to date`);
    return 0;
  }
  if (mode === 'check') {
    console.error(`config-docs: the config reference in ${README} is out of date; run \`npm run docs:config\``);
    return 1;
  }
  fs.writeFileSync(README, next.text);
  console.log(`config-docs: ${README} config reference rewritten`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  process.exitCode = main(process.argv.slice(2));
}
