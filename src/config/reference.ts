import { cameraSchemas, commonCameraSchema, SOURCE_TYPES } from './cameras.js';
import { classifierSchema } from './classifiers.js';
import { accepts } from './formats.js';
import { CONFIG_ENV } from './load.js';
import { appSchema } from './schema.js';
import { leaves, type SchemaTree, type Setting } from './setting.js';

/** The config reference (docs/configuration.md), generated from the same schemas the loader validates with. */
export function renderConfigReference(): string {
  const out = [
    '<!-- Generated from src/config by `npx tsx scripts/config-docs.ts --write`; edit the schema, not this block. -->',
    '',
    `The config is one JSON file: \`--config FILE\`, else \`$${CONFIG_ENV}\`, else \`config/local.json\` in a checkout,`,
    'else `/etc/mobilenet-edge/config.json`. Values are layered: defaults, then the file, then environment variables.',
    "Unknown keys are errors. Relative paths are resolved against the config file's directory.",
    '',
    '### Global keys',
    '',
    ...table(appSchema, ''),
    '',
    '### Camera keys',
    '',
    'Each entry of `cameras` is checked against the schema of its `source.type`. Keys every camera has:',
    '',
    ...table(commonCameraSchema, 'cameras.<name>.'),
  ];
  for (const type of SOURCE_TYPES) {
    const { type: _discriminant, ...source } = cameraSchemas[type].source;
    out.push('', `#### Source type \`${type}\``, '', ...table(source as SchemaTree, 'cameras.<name>.source.'));
  }
  out.push(
    '',
    '### Classifier keys',
    '',
    'Each entry of `classifiers` (detect, then classify: see docs/classifiers.md) has these keys:',
    '',
    ...table(classifierSchema, 'classifiers[i].'),
  );
  return `${out.join('\n')}\n`;
}

function table(schema: SchemaTree, prefix: string): string[] {
  const rows = leaves(schema).map(([key, s]) =>
    row([`\`${prefix}${key}\``, describe(s), s.format.describe, defaultText(s), s.env ? `\`${s.env}\`` : '']),
  );
  return [row(['Key', 'Description', 'Format', 'Default', 'Environment']), '| --- | --- | --- | --- | --- |', ...rows];
}

function describe(s: Setting<unknown>): string {
  return s.sensitive ? `${s.doc} Sensitive: redacted in output.` : s.doc;
}

function defaultText(s: Setting<unknown>): string {
  if (s.defaultDoc) return s.defaultDoc;
  if (s.default === null && !accepts(s.format, null)) return 'required';
  return `\`${JSON.stringify(s.default)}\``;
}

function row(cells: string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, '\\|').replace(/\n/g, ' ')).join(' | ')} |`;
}
