/**
 * JSON.parse with a usable error. Node 20's messages often carry no position ("Unexpected token 'x', ...
 * is not valid JSON") and quote the text, which may hold a password; so on failure a small scanner
 * walks the text to find the line and column and says what it expected there.
 */

export type JsonResult = { ok: true; value: unknown } | { ok: false; message: string; line: number; column: number };

export function parseJson(text: string): JsonResult {
  const body = text.replace(/^\uFEFF/, ''); // editors on Windows add a BOM that JSON.parse rejects
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    const { offset, message } = locateJsonError(body);
    const before = body.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - (before.lastIndexOf('\n') + 1) + 1;
    return { ok: false, message, line, column };
  }
}

class Located extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

function locateJsonError(text: string): { offset: number; message: string } {
  let i = 0;
  const fail = (message: string): never => {
    throw new Located(i, message);
  };
  const skipSpace = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const unexpected = (): never => {
    if (i >= text.length) return fail('unexpected end of file');
    const c = text[i] as string;
    return fail(`unexpected character ${JSON.stringify(c)}${c === '/' ? ' (JSON has no comments)' : c === "'" ? ' (JSON strings use double quotes)' : ''}`);
  };
  const str = (): void => {
    i++;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i] as string;
      if (c === '"') return void i++;
      if (c < ' ') fail('control character inside a string (write newlines as \\n)');
      if (c === '\\') {
        i++;
        if (text[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) i += 5;
        else if (i < text.length && '"\\/bfnrt'.includes(text[i] as string)) i++;
        else fail('invalid escape sequence in a string');
      } else i++;
    }
  };
  const list = (close: string, item: () => void): void => {
    i++;
    skipSpace();
    if (text[i] === close) return void i++;
    for (;;) {
      item();
      skipSpace();
      if (text[i] === close) return void i++;
      if (text[i] !== ',') fail(`expected ',' or '${close}'`);
      i++;
      skipSpace();
      if (text[i] === close) fail(`trailing comma before '${close}'`);
    }
  };
  const value = (): void => {
    skipSpace();
    const c = text[i];
    if (c === '{') {
      list('}', () => {
        skipSpace();
        if (text[i] !== '"') {
          if (i >= text.length || text[i] === '/' || text[i] === "'") unexpected();
          fail('expected a double-quoted property name');
        }
        str();
        skipSpace();
        if (text[i] !== ':') fail("expected ':' after the property name");
        i++;
        value();
      });
    } else if (c === '[') list(']', value);
    else if (c === '"') str();
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      const m = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
      m.lastIndex = i;
      if (!m.exec(text)) fail('invalid number');
      i = m.lastIndex;
    } else {
      const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
      if (!word) unexpected();
      i += (word as string).length;
    }
  };
  try {
    value();
    skipSpace();
    if (i < text.length) fail('unexpected text after the end of the JSON value');
    return { offset: 0, message: 'not valid JSON' }; // JSON.parse failed but the scanner did not: keep a generic message
  } catch (err) {
    if (err instanceof Located) return { offset: err.offset, message: err.message };
    throw err;
  }
}

/**
 * How deeply arrays and objects nest in `text` (strings skipped), in one pass without recursion: checked before
 * parsing, since every later walk over the value (validation, redaction, reload diffs) recurses once per level.
 * Stops counting at `limit + 1`.
 */
export function nestingDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
