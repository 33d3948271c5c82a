// wasm.register.*: what `__reflow_pack_register` reports through the import.
import { Violation } from '../harness/abi/errors.ts';
import { decodeRegistration } from '../harness/abi/registration.ts';
import type { Registration } from '../harness/hosts/wasm/ledger.ts';
import { runOnce, type PackProperty, type PropertyContext } from './types.ts';
import { WASM_EXPORTS } from '../harness/abi/abi.ts';
import { StepBroken } from '../harness/abi/errors.ts';

/** When register hung in the survey, the properties that read what it registers are blocked by wasm.register.status. */
function registerHung(ctx: PropertyContext): StepBroken | null {
  return ctx.survey.skipped.includes(WASM_EXPORTS.register) ? new StepBroken('wasm.register.status', '__reflow_pack_register()', 'did not return (see harness.timeout)') : null;
}

function registerFresh(ctx: PropertyContext): { status: number; regs: Registration[] } {
  const host = ctx.fresh({ register: false });
  const status = host.register();
  return { status, regs: host.ledger.registrations };
}

const listRegs = (regs: Registration[]) => regs.map((r) => `#${r.index} factory_id=${r.factoryId}`).join(', ') || 'none';

export const registerStatus: PackProperty = {
  id: 'wasm.register.status',
  needs: ['register'],
  checks: ['register'],
  check: (ctx) =>
    runOnce(() => {
      const { status, regs } = registerFresh(ctx);
      if (status !== 0 || regs.length === 0)
        throw new Violation('__reflow_pack_register() on a fresh instance', `status ${status} after ${regs.length} registration call(s)`, 'status 0 and at least one call to env.__reflow_pack_register_template');
    }, ctx),
};

export const registerMetadata: PackProperty = {
  id: 'wasm.register.metadata',
  needs: ['register'],
  checks: [],
  skipReason: registerHung,
  check: (ctx) =>
    runOnce(() => {
      const { regs } = registerFresh(ctx);
      const problems = regs.flatMap((r) => {
        const d = decodeRegistration(r, ctx.options.profile);
        return 'problem' in d ? [d.problem] : [];
      });
      if (problems.length)
        throw new Violation('__reflow_pack_register() → env.__reflow_pack_register_template(metadata_ptr, metadata_len, factory_id)', problems.join('; '), 'in-bounds UTF-8 JSON {"name": non-empty string, "inports": [string], "outports": [string]} for every registration');
    }, ctx),
};

export const registerUniqueNames: PackProperty = {
  id: 'wasm.register.unique-names',
  needs: ['register'],
  checks: [],
  skipReason: registerHung,
  check: (ctx) =>
    runOnce(() => {
      const { regs } = registerFresh(ctx);
      const seen = new Map<string, number>();
      for (const r of regs) {
        const d = decodeRegistration(r, ctx.options.profile);
        if ('problem' in d) continue; // wasm.register.metadata reports it
        const before = seen.get(d.template.name);
        if (before !== undefined)
          throw new Violation('__reflow_pack_register()', `template name ${JSON.stringify(d.template.name)} registered twice (registrations #${before} and #${r.index})`, 'every template name registered once');
        seen.set(d.template.name, r.index);
      }
    }, ctx),
};

export const registerDenseIds: PackProperty = {
  id: 'wasm.register.dense-ids',
  needs: ['register'],
  checks: [],
  skipReason: registerHung,
  check: (ctx) =>
    runOnce(() => {
      const { regs } = registerFresh(ctx);
      const bad = regs.find((r, i) => r.factoryId !== i);
      if (bad) throw new Violation('__reflow_pack_register()', `factory ids in call order: ${listRegs(regs)}`, `factory ids 0, 1, …, ${regs.length - 1} in call order (registration #${bad.index} passed ${bad.factoryId})`);
    }, ctx),
};
