// wasm.shape.exports: the module's exports and imports against ABI.md.
import { Violation } from '../harness/errors.ts';
import { runOnce, type PackProperty } from './types.ts';

export const shapeExports: PackProperty = {
  id: 'wasm.shape.exports',
  needs: [],
  check(ctx) {
    return runOnce(() => {
      const problems = ctx.survey.shapeProblems;
      if (problems.length) throw new Violation('reading the module\'s exports and imports', problems.join('; '), 'every export and the register import of ABI.md, with exactly its signature');
    });
  },
};
