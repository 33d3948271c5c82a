import { check } from './test/support/check.ts';
import { resultLines } from './harness/report/terminal.ts';
const t0 = performance.now();
const rep = await check(process.argv[2]!, { timeoutMs: Number(process.env.TMO ?? 2000), expectAbi: process.env.ABI ? Number(process.env.ABI) : null });
console.log(resultLines(rep.results).join('\n'));
console.log('failed', JSON.stringify(rep.results.filter(r=>r.status==='failed').map(r=>r.id)));
console.log('blocked', JSON.stringify(rep.results.filter(r=>r.blockedBy).map(r=>r.id)));
console.log('ms', Math.round(performance.now()-t0));
