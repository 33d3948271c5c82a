// Where one fuzz execution's time goes (issue #10's throughput target):
// `node --import tsx bench/fuzz-profile.ts [PACK…]` (default: the WAT and
// Rust reference packs). A 20,000-execution campaign (seed 1) gives a
// corpus; children of it, made by the campaign's own Mutator, are then run
// in this thread through the worker's code path (persistent judge, coverage
// reader) with each part timed in a pass of its own, and through a worker
// lane in batches of 128 for the message round trip. Figures, not
// assertions; BENCHMARKS.md "Executions per second" records them.
process.env['PACKCHECK_PROFILE'] = '1'; // before the host is imported: it reads the flag once

const { createHash } = await import('node:crypto');
const { mkdtempSync, readdirSync, readFileSync } = await import('node:fs');
const { tmpdir } = await import('node:os');
const { join } = await import('node:path');
const fc = (await import('fast-check')).default;
const { readPack } = await import('../harness/run/pack-file.ts');
const { runCampaign } = await import('../harness/fuzz/campaign.ts');
const { instrumentPack } = await import('../harness/fuzz/instrument.ts');
const { CoverageReader } = await import('../harness/fuzz/coverage.ts');
const { clearMemos, memoStats } = await import('../harness/fuzz/verdict-cache.ts');
const { PersistentJudge } = await import('../harness/fuzz/judge.ts');
const { FuzzLane } = await import('../harness/fuzz/lane.ts');
const { Mutator, prng } = await import('../harness/fuzz/mutate.ts');
const { TokenBag } = await import('../harness/fuzz/dictionary.ts');
const { payloadBytes, parseInput } = await import('../harness/fuzz/input.ts');
const { checkOutputs, classifyPayloadBytes } = await import('../harness/abi/message-schema.ts');
const { CheckedWasmHost } = await import('../harness/hosts/wasm/wasm-host.ts');
const { CallGuard } = await import('../harness/kernel/call-guard.ts');
const { decodeRegistration } = await import('../harness/abi/registration.ts');
const { takePhases } = await import('../harness/hosts/wasm/phase-clock.ts');
const { validMessage } = await import('../properties/arbitraries/message.ts');
const { stringifyJson } = await import('../properties/arbitraries/json-text.ts');
const { buildRust, buildWat, findRustc, WAT_REFERENCE } = await import('../packs-under-test/build.ts');
const { bareExecution, bareInstance } = await import('./bare-abi.ts');
type FuzzInput = import('../harness/fuzz/input.ts').FuzzInput;

const CHILDREN = 6000;
const REPEAT = 3;

async function packs(): Promise<{ name: string; path: string }[]> {
  const given = process.argv.slice(2);
  if (given.length) return given.map((p) => ({ name: p, path: p }));
  const rustc = findRustc();
  return [{ name: 'WAT reference', path: await buildWat(WAT_REFERENCE, 'wat-reference') }, ...('missing' in rustc ? [] : [{ name: 'Rust reference', path: buildRust(rustc, 'rust-reference') }])];
}

/** The best of REPEAT timings of `f` (ms): the machine is shared, the minimum is the least disturbed. */
function best(f: () => void): number {
  let min = Infinity;
  for (let r = 0; r < REPEAT; r++) {
    const t0 = performance.now();
    f();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

for (const pack of await packs()) {
  const bytes = (await readPack(pack.path)).bytes;
  const corpusDir = mkdtempSync(join(tmpdir(), 'pc-fuzz-profile-'));
  const campaign = await runCampaign({ pack: { path: pack.path, sha256: createHash('sha256').update(bytes).digest('hex'), bytes }, seed: 1, timeS: null, maxExecs: 20000, jobs: 1, timeoutMs: 2000, profile: 'sdk', dict: true, cmplog: true, corpusDir, artifactsDir: mkdtempSync(join(tmpdir(), 'pc-fuzz-profile-art-')) });
  const corpus = readdirSync(corpusDir).sort().map((n) => parseInput(JSON.parse(readFileSync(join(corpusDir, n), 'utf8'))) as FuzzInput);
  const inst = await instrumentPack(bytes, { cmplog: true });
  const guard = new CallGuard(null, 2000);
  const plain = CheckedWasmHost.instantiate(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), { guard });
  plain.register();
  const templates = plain.ledger.registrations.map((r) => decodeRegistration(r, 'sdk')).flatMap((d) => ('template' in d ? [d.template] : []));

  // Mutation, as the main thread makes a batch.
  const strings = new TokenBag<string>(4096);
  const ints = new TokenBag<bigint>(4096);
  for (const s of inst.dictionary.strings) strings.add(s);
  for (const v of inst.dictionary.ints) ints.add(v);
  const messages = ['{"type":"Integer","data":0}', ...fc.sample(validMessage(), { seed: 1, numRuns: 200 }).map((m) => stringifyJson(m))];
  const rand = prng(1);
  const mutator = new Mutator(rand, { templates, messages, strings, ints, cmpStrings: new TokenBag(4096), cmpInts: new TokenBag(4096) });
  let children: FuzzInput[] = [];
  const mutateMs = best(() => {
    children = [];
    for (let i = 0; i < CHILDREN; i++) children.push(mutator.mutate(corpus[Math.floor(rand() * corpus.length)]!, corpus));
  });
  const ticks = children.reduce((n, c) => n + c.ticks.length, 0);

  // The worker's loop in this thread: begin, run on the persistent instance, drain.
  const reader = new CoverageReader(inst.edges);
  const edgeSetup = { module: new WebAssembly.Module(inst.bytes as Uint8Array<ArrayBuffer>), templates, guard, instrumentation: reader.hookFor('edges') };
  const cmpSetup = { module: new WebAssembly.Module(inst.cmplogBytes! as Uint8Array<ArrayBuffer>), templates, guard, instrumentation: reader.hookFor('cmplog') };
  const judge = new PersistentJudge(edgeSetup, 1000);
  const judgeCmp = new PersistentJudge(cmpSetup, 1000);
  const loop = (j: InstanceType<typeof PersistentJudge>, cmplog: boolean, drain: boolean) => () => {
    for (const c of children) {
      reader.begin(cmplog);
      j.run(c);
      if (drain) reader.finish();
      if (cmplog) reader.cmpFinds();
    }
  };
  // Each pass from a cold memo: within one pass, children share their parents' ticks as in a campaign.
  const cold = (f: () => void) => () => {
    clearMemos();
    f();
  };
  const workerMs = best(cold(loop(judge, false, true)));
  const memo = memoStats();
  takePhases();
  loop(judge, false, true)();
  const ph = takePhases();
  const cmplogMs = best(cold(loop(judgeCmp, true, true)));
  // The drain alone, as the campaign drains (only what the instance calls new is read): a second run of each input, timed around the drain only.
  let drainMs = 0;
  for (let r = 0; r < REPEAT; r++) {
    let d = 0;
    for (const c of children) {
      reader.begin(false);
      judge.run(c);
      const t0 = performance.now();
      reader.finish();
      d += performance.now() - t0;
    }
    drainMs = r === 0 ? d : Math.min(drainMs, d);
  }
  // The oracles alone, on the same payloads and results.
  const payloads = children.flatMap((c) => c.ticks.map((p) => payloadBytes(p)));
  const encodeMs = best(() => children.forEach((c) => c.ticks.forEach((p) => payloadBytes(p))));
  const classifyMs = best(() => payloads.forEach((p) => classifyPayloadBytes(p)));
  const results: string[] = [];
  const host = CheckedWasmHost.instantiate(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), { guard });
  host.register();
  let created = 0;
  for (const c of children.slice(0, 2000)) {
    const t = templates.find((x) => x.name === c.template)!;
    const id = host.create(t.factoryId);
    created++;
    for (const p of c.ticks) {
      try {
        const tk = host.run(id, payloadBytes(p));
        if (tk.status === 0 && tk.result) results.push(new TextDecoder().decode(tk.result));
      } catch {
        break;
      }
    }
    try {
      host.destroy(id);
    } catch {
      break;
    }
  }
  const outputsMs = (best(() => results.forEach((r) => checkOutputs(r))) / Math.max(1, results.length)) * (results.length / Math.max(1, created)) * children.length;
  // Create and destroy alone, on the instrumented build's persistent instance.
  const cd = CheckedWasmHost.instantiate(edgeSetup.module, { guard, instrumentation: reader.hookFor('edges') });
  cd.register();
  const createMs = best(() => {
    for (let i = 0; i < children.length; i++) cd.destroy(cd.create(templates[0]!.factoryId));
  });
  // The floor: the same children bare (no check, no instrumentation, no oracle) on one instance of the pack as it is.
  const bare = bareInstance(bytes);
  const bareRuns = children.map((c) => ({ factoryId: templates.find((t) => t.name === c.template)!.factoryId, payloads: c.ticks.map((p) => payloadBytes(p)) }));
  const bareMs = best(() => bareRuns.forEach((r) => bareExecution(bare, r.factoryId, r.payloads)));
  // The worker lane: batches of 128 by message, against the same inputs run in this thread.
  const lane = await FuzzLane.open({ bytes, timeoutMs: 2000, profile: 'sdk', plain: false, cmplog: true, instrumented: inst });
  // Warmed up on the first half, timed once on the second: the worker keeps its memo, so the same inputs again would
  // be all hits (a campaign's children are new texts, apart from the ticks copied from their parents).
  const half = children.length >> 1;
  const send = async (from: number, to: number) => {
    const t0 = performance.now();
    for (let at = from; at < to; at += 128) {
      const b = children.slice(at, Math.min(at + 128, to));
      await lane.runBatch(b, b.map(() => false));
    }
    return performance.now() - t0;
  };
  await send(0, half);
  const laneMs = ((await send(half, children.length)) * children.length) / (children.length - half);
  const emptyT0 = performance.now();
  for (let i = 0; i < 200; i++) await lane.runBatch([], []);
  const emptyMs = (performance.now() - emptyT0) / 200;
  const cloneMs = best(() => {
    for (let at = 0; at < children.length; at += 128) structuredClone(children.slice(at, at + 128));
  });
  await lane.close();

  const share = (m: { hits: number; misses: number }) => `${((100 * m.hits) / Math.max(1, m.hits + m.misses)).toFixed(0)} %`;
  const per = (ms: number) => ((ms * 1000) / children.length).toFixed(1);
  console.log(`${pack.name}: ${children.length} children of a ${corpus.length}-input corpus (seed 1, 20,000-exec campaign at ${campaign.stats.execsPerSec} exec/s), ${(ticks / children.length).toFixed(2)} ticks each; µs per execution:`);
  console.log(`  floor: the same children run bare ${per(bareMs)}`);
  console.log(`  main thread: mutation ${per(mutateMs)}; structured clone of the batch ${per(cloneMs)}`);
  console.log(`  worker, in this thread (memo emptied before each pass): whole execution ${per(workerMs)} (${(1e6 / ((workerMs * 1000) / children.length)).toFixed(0)} exec/s); memo hits: payload texts ${share(memo.texts)}, hex payloads ${share(memo.hexes)}, results ${share(memo.outputs)}, error JSON ${share(memo.errors)}`);
  console.log(`    pack calls ${per(ph.packMs)} (${(ph.packCalls / children.length).toFixed(1)} calls), host checks after calls ${per(ph.checkMs)}, instantiation ${per(ph.instantiateMs)}`);
  console.log(`    each alone, uncached: create+destroy ${per(createMs)}; payload encoding ${per(encodeMs)}; classifyPayloadBytes ${per(classifyMs)}; checkOutputs ${per(outputsMs)} (${results.length} status-0 results in ${created} inputs); coverage drain ${per(drainMs)}`);
  console.log(`  CmpLog build (inputs run with CmpLog): ${per(cmplogMs)}`);
  console.log(`  worker lane, batches of 128: ${per(laneMs)} (${(1e6 / ((laneMs * 1000) / children.length)).toFixed(0)} exec/s); an empty batch's round trip ${(emptyMs * 1000).toFixed(0)} µs`);
}
