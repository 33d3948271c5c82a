// A warm corpus child: one process that checks the packs its parent sends,
// one at a time, each exactly as `packcheck PACK --json FILE --quiet --jobs 1
// …` would in a process of its own (the same CLI entry point, in-process).
// What it saves is the process start and the loading of packcheck's modules
// for every pack; what it keeps is isolation where it matters: every pack's
// code runs in worker threads or child processes of its own check, started
// and ended by that check, and no result outlives the pack it was taken for.
// If a pack still takes this process down, the parent reports that pack as
// it always did and starts a fresh child for the rest.
import { main } from '../cli.ts';

/** Parent → child: check one pack. */
export interface CorpusJob {
  argv: string[];
}
/** Child → parent: the CLI's exit code and what it wrote to stderr. */
export interface CorpusJobDone {
  code: number;
  stderr: string;
}

process.on('message', (job: CorpusJob) => {
  const lines: string[] = [];
  void main(job.argv, () => {}, (s) => lines.push(s))
    .catch((e: unknown) => {
      lines.push(`packcheck: internal error: ${(e as Error)?.stack ?? String(e)}`);
      return 1;
    })
    .then((code) => process.send!({ code, stderr: lines.join('\n') } satisfies CorpusJobDone));
});
process.send!({ code: -1, stderr: 'ready' } satisfies CorpusJobDone);
