// wasm.shape.exports: the module's exports and imports against ABI.md.
import { Violation } from '../harness/abi/errors.ts';
import { runOnce, type PackProperty } from './types.ts';

/** Every other wasm id relies on it: the survey found out (a hang there is cut off by the watchdog and recorded by the runner). */
export const loadInstantiate: PackProperty = {
  id: 'wasm.load.instantiate',
  needs: [],
  checks: [],
  check(ctx) {
    return runOnce(
      () => {
        if (ctx.survey.surveyError) throw new Violation('new WebAssembly.Instance(module, imports) (instantiation, start function included)', ctx.survey.surveyError, 'an instance: the start function, if any, returns');
      },
      ctx,
    );
  },
};

export const shapeExports: PackProperty = {
  id: 'wasm.shape.exports',
  needs: [],
  checks: [],
  check(ctx) {
    return runOnce(() => {
      const problems = ctx.survey.shapeProblems;
      if (problems.length) throw new Violation('reading the module\'s exports and imports', problems.join('; '), 'every export and the register import of ABI.md, with exactly its signature');
    }, ctx);
  },
};
