// A warm corpus child: one process that checks the packs its parent sends,
// one at a time, each exactly as `packcheck PACK --json FILE --quiet --jobs 1
// …` would in a process of its own (the same CLI entry point, in-process).
// What it saves is the process start and the loading of packcheck's modules
// for every pack, in this process and in the wasm battery's worker threads
// (a worker that ends a pack's check alive and idle serves the next pack;
// one that hung or crashed is gone with its pack). What it keeps is the
// isolation that matters: a pack's code runs only in worker threads or child
// processes, every question to a worker names the pack it is about, and no
// result outlives the pack it was taken for.
// If a pack still takes this process down, the parent reports that pack as
// it always did and starts a fresh child for the rest.
import { main } from '../cli.ts';
import { keepWorkersForNextPack } from './wasm-runner.ts';

/** Parent → child: check one pack. */
export interface CorpusJob {
  argv: string[];
}
/** Child → parent: the CLI's exit code and what it wrote to stderr. */
export interface CorpusJobDone {
  code: number;
  stderr: string;
}

keepWorkersForNextPack();

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
