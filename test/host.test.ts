// Host conformance: the reference host passes every host.* property, the
// example loader fails the four named ones, each deliberately broken adapter
// fails the property it breaks, and a hanging adapter is cut off.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { checkHost } from '../harness/host-kit/runner.ts';
import { HOST_PROPERTY_IDS } from '../properties/catalog.ts';
import { TEST_RUNS, TEST_SEED } from './support/check.ts';

const ADAPTERS = join(import.meta.dirname, '..', 'mocks', 'host-adapters');
const check = (adapter: string, opts: { only?: string[]; timeoutMs?: number } = {}) =>
  checkHost(adapter, { seed: TEST_SEED, runs: TEST_RUNS, timeoutMs: opts.timeoutMs ?? 5000, profile: 'sdk', expectAbi: null, only: opts.only });
const failedIds = (rep: Awaited<ReturnType<typeof check>>) => rep.results.filter((r) => r.status === 'failed').map((r) => r.id);

describe('host conformance', () => {
  it('the reference host adapter passes every host property', async () => {
    const rep = await check(join(ADAPTERS, 'reference-host.ts'));
    expect(rep.results.filter((r) => r.status !== 'passed').map((r) => `${r.id}: ${r.message}`)).toEqual([]);
    expect(rep.results.map((r) => r.id)).toEqual([...HOST_PROPERTY_IDS]);
    expect(rep.host.path).toContain('reference-host.ts');
  });

  it('the example loader (upstream behaviour) fails output.freed, alloc.paired, instance.distinct and instance.destroyed, readably', async () => {
    const rep = await check(join(ADAPTERS, 'example-loader.ts'));
    const failed = failedIds(rep);
    for (const id of ['host.output.freed', 'host.alloc.paired', 'host.instance.distinct', 'host.instance.destroyed']) expect(failed).toContain(id);
    const freed = rep.results.find((r) => r.id === 'host.output.freed')!;
    expect(freed.message).toMatch(/out_len 0 .*\n\s+returned: the result never freed\n\s+expected: __reflow_pack_free\(\d+, 1\) exactly once/);
    expect(freed.replay).toMatch(/^packcheck host \S+example-loader\.ts --only host\.output\.freed --seed \d+ --path /);
  });

  it('the instantiate pitfall fails the load of every property, with the TypeError', async () => {
    const rep = await check(join(ADAPTERS, 'broken-instantiate.ts'), { only: ['host.alloc.paired', 'host.instance.distinct'] });
    for (const r of rep.results) {
      expect(r.status).toBe('failed');
      expect(r.message).toMatch(/rejected: TypeError: Cannot read properties of undefined \(reading 'exports'\)/);
    }
  });

  const broken = readdirSync(join(ADAPTERS, 'broken')).map((f) => f.replace(/\.ts$/, ''));
  it('has one broken adapter per host property', () => {
    expect(broken.map((n) => `host.${n.replace('-', '.')}`).sort()).toEqual([...HOST_PROPERTY_IDS].sort());
  });

  for (const name of broken) {
    const id = `host.${name.replace('-', '.')}`;
    it(`broken/${name} fails ${id}`, async () => {
      const rep = await check(join(ADAPTERS, 'broken', `${name}.ts`), { only: [id] });
      const r = rep.results.find((x) => x.id === id)!;
      expect(r.status, r.message).toBe('failed');
      expect(r.message).toMatch(/returned: .*\n\s+expected: /);
    });
  }

  it('an adapter call that never returns is cut off as harness.timeout and the check goes on', async () => {
    const rep = await check(join(import.meta.dirname, 'fixtures', 'hanging-adapter.ts'), { only: ['host.output.freed', 'host.register.duplicate'], timeoutMs: 1000 });
    expect(rep.results.find((r) => r.id === 'host.output.freed')!.status).toBe('failed');
    const t = rep.results.find((r) => r.id === 'harness.timeout')!;
    expect(t.message).toMatch(/^during host\.output\.freed: the adapter call run\(actor, .*\) did not settle within 1000 ms/);
    expect(rep.results.find((r) => r.id === 'host.register.duplicate')!.status).toBe('passed');
  });

  it('packcheck host writes report@1 with "host" in place of "pack", and exits 1 on a failing host', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'packcheck-host-')), 'h.json');
    const bin = join(import.meta.dirname, '..', 'bin', 'packcheck.js');
    const code = await promisify(execFile)(process.execPath, [bin, 'host', join(ADAPTERS, 'broken', 'register-duplicate.ts'), '--only', 'host.register', '--seed', '2', '--runs', '5', '--json', json]).then(
      () => 0,
      (e: { code: number }) => e.code,
    );
    expect(code).toBe(1);
    const rep = JSON.parse(readFileSync(json, 'utf8'));
    expect(rep.schema).toBe('packcheck/report@1');
    expect(rep.pack).toBeUndefined();
    expect(rep.host.path).toContain('register-duplicate.ts');
    expect(rep.results.map((r: { id: string; status: string }) => [r.id, r.status])).toEqual([
      ['host.register.once', 'passed'],
      ['host.register.duplicate', 'failed'],
    ]);
  });
});
