/**
 * A small option parser shared by the subcommands: `--name value`, `--name=value`, flags, and
 * positional arguments. Errors come back as text for the caller to print with its usage.
 */
export interface OptionSpec {
  /** Takes a value (true) or is a flag (false). */
  value: boolean;
  /** May be given more than once (values collected). */
  repeat?: boolean;
}

export type Parsed = { ok: true; options: Map<string, string[]>; positional: string[] } | { ok: false; error: string };

export function parseArgs(argv: string[], spec: Record<string, OptionSpec>): Parsed {
  const options = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const s = spec[name];
    if (!s) return { ok: false, error: `unknown option '${name}'` };
    let value = 'true';
    if (s.value) {
      if (eq > 0) value = a.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else return { ok: false, error: `${name} needs a value` };
    } else if (eq > 0) return { ok: false, error: `${name} takes no value` };
    const list = options.get(name) ?? [];
    if (list.length && !s.repeat) return { ok: false, error: `${name} given twice` };
    list.push(value);
    options.set(name, list);
  }
  return { ok: true, options, positional };
}

export function intOption(v: string | undefined, name: string, min: number, max = Number.MAX_SAFE_INTEGER): { ok: true; value: number | undefined } | { ok: false; error: string } {
  if (v === undefined) return { ok: true, value: undefined };
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < min || n > max) return { ok: false, error: `${name} takes a whole number from ${min} to ${max}, not '${v}'` };
  return { ok: true, value: n };
}
