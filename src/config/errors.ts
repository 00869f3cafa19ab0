/** One thing wrong with the config. `key` is the dotted key path, or '' when the problem is the file itself. */
export interface ConfigProblem {
  key: string;
  message: string;
}

/** Every problem found in one config file, reported together so the user fixes them in one go. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(problems.map((p) => problemLine(file, p)).join('\n'));
  }
}

function problemLine(file: string, p: ConfigProblem): string {
  return `config error in ${file}: ${p.key ? `${p.key}: ` : ''}${p.message}`;
}

/** One line per problem, no stack: what `check-config` and the daemon print before exiting. */
export function formatConfigError(err: ConfigError): string {
  return err.problems.map((p) => problemLine(err.file, p)).join('\n');
}
