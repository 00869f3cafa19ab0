import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.bmp', '.webp'];

// Numeric collation so frame2.jpg plays before frame10.jpg; a fixed locale so the order never depends on the host.
const byName = new Intl.Collator('en', { numeric: true }).compare;

/**
 * The image files a `files` source plays, in order: `path` is one file (taken as is, whatever its name),
 * a directory (its images, non-recursive), or a pattern with `*` / `?` in the file name part only.
 * Node 20 has no fs.glob (22+), and path.matchesGlob prints an ExperimentalWarning, hence the small matcher.
 * Throws an Error naming `path` when it cannot be read; an empty list is the caller's to judge.
 */
export async function listImageFiles(path: string): Promise<string[]> {
  const dir = dirname(path);
  const name = basename(path);
  if (hasWildcard(name)) {
    if (hasWildcard(dir)) throw new Error(`only the file name may contain wildcards: ${path}`);
    const pattern = wildcardToRegExp(name);
    return (await imageNamesIn(dir, path)).filter((n) => pattern.test(n)).map((n) => join(dir, n));
  }
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new Error(describeFsError(err, path));
  });
  if (!info.isDirectory()) return [path];
  return (await imageNamesIn(path, path)).map((n) => join(path, n));
}

async function imageNamesIn(dir: string, asked: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new Error(describeFsError(err, asked));
  });
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && isImageName(e.name))
    .map((e) => e.name)
    .sort(byName);
}

/** Hidden names are skipped: macOS leaves "._photo.jpg" resource forks on USB sticks that are not images. */
function isImageName(name: string): boolean {
  return !name.startsWith('.') && IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

function hasWildcard(s: string): boolean {
  return /[*?]/.test(s);
}

function wildcardToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function describeFsError(err: NodeJS.ErrnoException, path: string): string {
  if (err.code === 'ENOENT') return `no such file or directory: ${path}`;
  return `cannot read ${path}: ${err.code ?? err.message}`;
}
