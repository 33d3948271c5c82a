import { check, rustc } from './test/support/check.ts';
import { buildMutant } from './packs-under-test/build.ts';
import { MUTANTS } from './packs-under-test/manifest.ts';
const filter = process.argv[2];
for (const m of MUTANTS) {
  if (filter && !m.name.includes(filter)) continue;
  const path = (await buildMutant(m, rustc))!;
  const t0 = performance.now();
  const rep = await check(path, { expectAbi: m.options?.expectBuildAbi ? rustc!.abiVersion : null, timeoutMs: m.options?.timeoutMs });
  const failed = [...new Set(rep.results.filter((r) => r.status === 'failed' || r.status === 'errored').map((r) => r.id))];
  const blocked = rep.results.filter((r) => r.blockedBy).map((r) => `${r.id}<${r.blockedBy}`);
  const same = JSON.stringify([...failed].sort()) === JSON.stringify([...m.mustFail].sort());
  console.log(`${same ? 'OK  ' : 'DIFF'} ${m.name} ${Math.round(performance.now() - t0)}ms\n   failed ${JSON.stringify(failed)} want ${JSON.stringify(m.mustFail)}\n   blocked ${JSON.stringify(blocked)}`);
  for (const r of rep.results.filter((r) => r.status === 'errored')) console.log('   ERRORED', r.id, r.message?.slice(0, 300));
  if (!same) for (const r of rep.results.filter((r) => (r.status === 'failed') && !m.mustFail.includes(r.id))) console.log('   extra', r.id, r.message?.slice(0, 400));
}
