// wasm.instance.*: create/destroy and the instance ids the pack hands out.
import fc from 'fast-check';
import { Violation } from '../harness/abi/errors.ts';
import { allocCommands, commandsArb, lifecycleCommands, modelRun, noCheck, tickCommands } from './model-commands.ts';
import { measureGrowth } from './measure.ts';
import { ownedBy } from './attribution.ts';
import { createLive, demandErrorJson, needsTemplates, templateArb, unregisteredFactoryArb, utf8 } from './support.ts';
import { runFc, type PackProperty } from './types.ts';

export const instanceCreate: PackProperty = {
  id: 'wasm.instance.create',
  needs: ['create'],
  checks: ['create'],
  skipReason: needsTemplates,
  check(ctx) {
    // The factory ids the pack registered (dense or not: wasm.register.dense-ids judges that).
    const ids = ctx.survey.templates.map((t) => t.factoryId);
    const n = Math.max(...ids) + 1;
    const unregistered = unregisteredFactoryArb(n).filter((f) => !ids.includes(f));
    type Case = [{ registered: boolean; f: number }];
    return runFc(
      ctx,
      ctx.options.runs,
      fc.property(fc.oneof(fc.record({ registered: fc.constant(true), f: fc.constantFrom(...ids) }), fc.record({ registered: fc.constant(false), f: unregistered })), ({ registered, f }) => {
        const host = ctx.fresh();
        const id = host.create(f);
        if (registered && id === 0) throw new Violation(`__reflow_pack_create_actor(${f})`, '0', `a non-zero instance id (factory ${f} is registered)`);
        if (!registered && id !== 0) throw new Violation(`__reflow_pack_create_actor(${f}) (${f | 0} as i32)`, String(id), `0: the registered factory ids are [${ids.join(', ')}]`);
      }),
      [...[n, n + 1, 0x7fffffff, 0xffffffff].map((f): Case => [{ registered: false, f }]), ...ids.map((f): Case => [{ registered: true, f }])],
    );
  },
};

export const instanceUnique: PackProperty = {
  id: 'wasm.instance.unique',
  needs: ['create', 'destroy'],
  checks: [],
  skipReason: needsTemplates,
  check: (ctx) =>
    runFc(ctx, ctx.options.runs, fc.property(commandsArb(ctx, lifecycleCommands(ctx), 60), (cmds) => modelRun(ctx, cmds, noCheck))),
};

export const instanceDestroy: PackProperty = {
  id: 'wasm.instance.destroy',
  needs: ['create', 'destroy', 'run'],
  // "A destroyed id runs no more" means nothing when any id the pack does not know still runs.
  reliesOn: ['wasm.run.unknown-instance'],
  checks: ['destroy', 'run'],
  skipReason: needsTemplates,
  check: (ctx) =>
    runFc(
      ctx,
      ctx.options.runs,
      fc.property(templateArb(ctx), fc.boolean(), fc.nat({ max: 0xffffffff }), (t, runFirst, stray) => {
        const host = ctx.fresh();
        const id = createLive(host, t.factoryId);
        if (runFirst) ownedBy('wasm.run.valid-payload', () => host.run(id, utf8('{"input":{}}')));
        host.destroy(id);
        demandErrorJson(host.run(id, utf8('{"input":{}}')), `a non-zero status with error JSON: instance ${id} was destroyed`);
        host.destroy(id); // again: must not trap
        if (stray !== id) host.destroy(stray); // never issued (ids are a counter; a stray one is unknown unless equal)
      }),
    ),
};

export const instanceModel: PackProperty = {
  id: 'wasm.instance.model',
  needs: ['alloc', 'free', 'create', 'destroy', 'run'],
  checks: [],
  skipReason: needsTemplates,
  check: (ctx) =>
    runFc(
      ctx,
      ctx.options.runs,
      fc.property(commandsArb(ctx, [...tickCommands(ctx), ...allocCommands()], 40), (cmds) => modelRun(ctx, cmds, noCheck)),
    ),
};

const NO_LEAK_PAYLOAD = utf8('{"input":{}}');

export const instanceNoLeak: PackProperty = {
  id: 'wasm.instance.no-leak',
  needs: ['alloc', 'free', 'create', 'destroy', 'run'],
  // Its cycle frees through free, destroys through destroy and frees a result the pack placed: a failure of any of those shows here too.
  reliesOn: ['wasm.alloc.no-leak', 'wasm.instance.destroy', 'wasm.run.out-slots', 'wasm.run.output-owned'],
  checks: [],
  skipReason: needsTemplates,
  check: (ctx) =>
    measureGrowth(ctx, `a cycle creates an instance (factories in turn), runs it once on ${JSON.stringify('{"input":{}}')}, frees the result and destroys it`, (host) => {
      const factories = ctx.survey.templates.map((t) => t.factoryId);
      let k = 0;
      return () => {
        const id = host.create(factories[k++ % factories.length]!);
        host.run(id, NO_LEAK_PAYLOAD);
        host.destroy(id);
        return host.ledger.highestEnd;
      };
    }),
};
