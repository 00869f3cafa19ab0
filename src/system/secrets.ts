/**
 * Passwords never leave the process: every URL's user-info password (a camera's rtsp://user:pass@host, the broker's
 * mqtts://user:pass@host) is shown as `***` in logs, MQTT payloads, HTTP answers and check-config's output.
 *
 * Two nets, because neither is enough alone:
 * - a pattern that finds `scheme://user:password@` in any text (ffmpeg's stderr quotes its input URL);
 * - the literal secrets the config holds, for text where the pattern cannot see the URL whole (a password with
 *   spaces in a line of free text, a password a program prints on its own, a JSON-escaped one).
 */

export const MASK = '***';

// In free text a password stops at whitespace, quotes and the characters that end a URL's authority (a raw '/', '?'
// or '#' cannot be in a working URL's password anyway); it ends at the LAST '@' before those, so a raw '@' inside the
// password is masked with it. The user part may hold '@' (user@domain:pass@host) but not ':'.
const IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#"'<>]*:)[^\s/?#"'<>]*@/gi;
// A config value is one URL: there a password may also hold spaces and quotes.
const WHOLE_VALUE = /^(\s*[a-z][a-z0-9+.-]*:\/\/[^:/?#]*:)[^/?#]*@/i;

/** Masks the password of every `scheme://user:password@` in free text (log lines, a child's stderr). */
export function maskUrlPasswords(text: string): string {
  return text.includes('://') ? text.replace(IN_TEXT, `$1${MASK}@`) : text;
}

/** Masks the password of a value that is one URL (a config string), spaces and quotes in the password included. */
export function maskUrlValue(value: string): string {
  return maskUrlPasswords(value.replace(WHOLE_VALUE, `$1${MASK}@`));
}

/** The password of a URL-valued string, raw and percent-decoded; none when it has no `user:password@`. */
export function urlPasswords(value: string): string[] {
  const m = /^\s*[a-z][a-z0-9+.-]*:\/\/[^:/?#]*:([^/?#]*)@/i.exec(value);
  if (!m?.[1]) return [];
  const raw = m[1];
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // a stray '%' is not an encoding: the raw form is the secret
  }
  return decoded === raw ? [raw] : [raw, decoded];
}

/** Shorter secrets are masked only where the URL pattern finds them: masking "abc" everywhere would garble logs. */
const MIN_LITERAL = 4;

/**
 * Masks URL passwords and the given literal secrets (as written, and as they appear JSON-escaped) in any text.
 * Cheap when nothing matches: one `includes` per secret form.
 */
export class SecretScrubber {
  private readonly forms: string[];

  constructor(secrets: Iterable<string> = []) {
    const forms = new Set<string>();
    for (const s of secrets) {
      if (s.length < MIN_LITERAL) continue;
      forms.add(s);
      forms.add(JSON.stringify(s).slice(1, -1));
    }
    // Longest first, so a secret that contains another is masked whole.
    this.forms = [...forms].sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    // Literals first: the pattern stops a password at a space or its first '@', so run first it would mask
    // "p@ss w%40rd" as "***@ss w%40rd" and leave no whole literal for the second net to find.
    let out = text;
    for (const f of this.forms) if (out.includes(f)) out = out.split(f).join(MASK);
    return maskUrlPasswords(out);
  }
}
