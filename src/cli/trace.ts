// `xenvm-emu trace FILE.jsonl`: re-render a saved trace as text, filtered, with a summary.
import { FILTER_HELP, matchesFilter, parseFilterOption } from '../trace/filter.ts';
import { parseJsonlFile } from '../trace/jsonl.ts';
import { formatSummary, summarize } from '../trace/summary.ts';
import { formatEvent } from '../trace/text.ts';
import { parseArgs, type OptionSpec } from './args.ts';

export const TRACE_USAGE = `usage: xenvm-emu trace [options] FILE.jsonl

Re-renders a trace saved with 'xenvm-emu run --trace-file FILE.jsonl' as text, one line per event
(the same lines 'run --trace' prints), then a summary: hypercalls by call and result, events per
event-channel port, and interrupt latency in guest instructions from EVTCHNOP_send to the
receiving domain's interrupt handler (min/median/max). docs/trace.md describes the file.
Exit status: 0 done; 2 bad arguments or an unreadable or malformed file.

options:
  --trace-filter EXPR     print only matching events (may be repeated; the summary always
                          covers the whole trace).
                          ${FILTER_HELP}
  --summary-only          print only the summary
  --no-summary            print only the events
  -h, --help              this text`;

const SPEC: Record<string, OptionSpec> = {
  '--trace-filter': { value: true, repeat: true },
  '--summary-only': { value: false },
  '--no-summary': { value: false },
  '--help': { value: false },
  '-h': { value: false },
};

export async function traceMain(argv: string[]): Promise<number> {
  const usageError = (msg: string) => {
    process.stderr.write(`xenvm-emu trace: ${msg}\n\n${TRACE_USAGE}\n`);
    return 2;
  };
  const p = parseArgs(argv, SPEC);
  if (!p.ok) return usageError(p.error);
  const o = p.options;
  if (o.has('--help') || o.has('-h')) {
    process.stdout.write(TRACE_USAGE + '\n');
    return 0;
  }
  if (p.positional.length !== 1) return usageError(p.positional.length ? 'one FILE.jsonl at a time' : 'no FILE.jsonl given');
  if (o.has('--summary-only') && o.has('--no-summary')) return usageError('--summary-only and --no-summary exclude each other');
  const f = parseFilterOption(o.get('--trace-filter') ?? []);
  if (!f.ok) return usageError(f.error);
  const path = p.positional[0];
  const parsed = parseJsonlFile(path);
  if (!parsed.ok) {
    process.stderr.write(`xenvm-emu trace: ${parsed.line ? `${path}:${parsed.line}: ` : ''}${parsed.error}\n`);
    return 2;
  }
  const out: string[] = [];
  if (!o.has('--summary-only')) {
    for (const e of parsed.events) if (matchesFilter(f.filter, e)) out.push(formatEvent(e));
  }
  if (!o.has('--no-summary')) {
    if (out.length) out.push('');
    out.push(formatSummary(summarize(parsed.events)));
  }
  process.stdout.write(out.length ? out.join('\n') + '\n' : '');
  return 0;
}
