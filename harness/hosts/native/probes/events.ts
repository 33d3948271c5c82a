// What one native-host scenario left behind: the adapter's events (parsed
// strictly: a line that is not one of the four event shapes is the adapter's
// error, reported with its line number, never guessed at) and the probes'
// side-channel lines (written by probe-pack.c, which packcheck builds).

/** One adapter event (PROPERTIES.md, "Native host conformance"). */
export type AdapterEvent =
  | { ev: 'load'; path: string; ok: true }
  | { ev: 'load'; path: string; ok: false; error: string }
  | { ev: 'template'; path: string; name: string }
  | { ev: 'create'; path: string; name: string; ok: true }
  | { ev: 'create'; path: string; name: string; ok: false; error: string }
  | { ev: 'unload'; path: string; ok: boolean };

/** A line of the events file the adapter got wrong. */
export interface MalformedEvent {
  line: number;
  text: string;
  why: string;
}

const FIELDS: Record<string, Record<string, 'string' | 'boolean'>> = {
  load: { path: 'string', ok: 'boolean' },
  template: { path: 'string', name: 'string' },
  create: { path: 'string', name: 'string', ok: 'boolean' },
  unload: { path: 'string', ok: 'boolean' },
};

function shapeProblem(o: unknown, packs: readonly string[]): string | null {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return 'not a JSON object';
  const r = o as Record<string, unknown>;
  const fields = typeof r.ev === 'string' ? FIELDS[r.ev] : undefined;
  if (!fields) return `"ev" is ${JSON.stringify(r.ev)}, not one of "load", "template", "create", "unload"`;
  const allowed = { ev: 'string', ...fields, ...(r.ok === false && r.ev !== 'unload' ? { error: 'string' } : {}) } as Record<string, string>;
  for (const [k, type] of Object.entries(allowed)) if (typeof r[k] !== type) return `"${k}" must be a ${type} in a "${r.ev}" event${k === 'error' ? ' with "ok": false' : ''}`;
  const extra = Object.keys(r).filter((k) => !(k in allowed));
  if (extra.length) return `unknown member${extra.length > 1 ? 's' : ''} ${extra.map((k) => `"${k}"`).join(', ')} in a "${r.ev}" event`;
  if (!packs.includes(r.path as string)) return `"path" ${JSON.stringify(r.path)} is none of the packs it was given (report each path exactly as given)`;
  return null;
}

/** The adapter's events up to the first line that breaks the format, and that line. */
export function parseEvents(text: string, packs: readonly string[]): { events: AdapterEvent[]; malformed: MalformedEvent | null } {
  const events: AdapterEvent[] = [];
  const lines = text.split('\n');
  // A final newline leaves one empty string; a last line without one is still a line.
  if (lines.at(-1) === '') lines.pop();
  for (const [i, line] of lines.entries()) {
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (e) {
      return { events, malformed: { line: i + 1, text: line.slice(0, 200), why: `not JSON (${(e as Error).message})` } };
    }
    const why = shapeProblem(o, packs);
    if (why) return { events, malformed: { line: i + 1, text: line.slice(0, 200), why } };
    events.push(o as AdapterEvent);
  }
  return { events, malformed: null };
}

/** One line a probe wrote: which probe, in which process, what it received (probe-pack.c's `say`). */
export type ProbeLine = { probe: string; pid: number; ev: string } & Record<string, unknown>;

/** The probes' lines; a line cut short by a killed process (the last one) is left out. */
export function parseProbeLog(text: string): ProbeLine[] {
  const out: ProbeLine[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const o = JSON.parse(line) as ProbeLine;
      if (typeof o.probe === 'string' && typeof o.ev === 'string') out.push(o);
    } catch {
      // Each line is one write() on O_APPEND; only a process killed mid-write leaves part of one.
    }
  }
  return out;
}

/** An event, as a reader sees it in a message. */
export function showEvent(e: AdapterEvent | undefined): string {
  return e ? JSON.stringify(e) : '(no event yet)';
}

/** How a scenario's adapter process ended. */
export type ScenarioEnd =
  | { type: 'exited'; code: number }
  | { type: 'timeout'; budgetMs: number }
  | { type: 'crash'; why: string }
  | { type: 'spawn-failed'; why: string };

/** Everything one scenario produced: the verdicts are judged from this alone. */
export interface ScenarioRecord {
  scenario: string;
  /** The packs given, in order, and the probe each one is. */
  packs: { path: string; probe: string }[];
  /** The command line, for messages and replay. */
  command: string;
  end: ScenarioEnd;
  events: AdapterEvent[];
  /** The adapter's first malformed events line, if any (the events before it are kept). */
  malformed: MalformedEvent | null;
  probe: ProbeLine[];
  /** The adapter's own output, the last few KiB, never parsed. */
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Whether the scenario's process was cut off (a hang or a signal): its evidence stops there. */
export const cutOff = (r: ScenarioRecord): boolean => r.end.type === 'timeout' || r.end.type === 'crash';
