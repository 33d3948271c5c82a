// wasm.run.*: one tick of `__reflow_pack_actor_run`, fed every kind of payload.
import fc from 'fast-check';
import { PAYLOAD_REJECTIONS, RunStatus } from '../harness/abi/abi.ts';
import { StepBroken, Violation } from '../harness/abi/errors.ts';
import { checkOutputs } from '../harness/abi/message-schema.ts';
import type { Template } from '../harness/abi/registration.ts';
import type { CheckedWasmHost, Tick } from '../harness/hosts/wasm/wasm-host.ts';
import { badShapePayload, invalidJsonPayload, invalidUtf8Payload, largePayload, validPayload, type PayloadCase } from './arbitraries/payload.ts';
import { utf8EdgeString } from './arbitraries/utf8.ts';
import { createLive, demandErrorJson, describeAnswer, formBroken, needsTemplates, refuseAllocFailure, slotUnwritten, templateArb, tickCall, utf8 } from './support.ts';
import { ownedBy, payloadOwner } from './attribution.ts';
import { notReached } from './types.ts';
import { runFc, type PackProperty, type PropertyContext } from './types.ts';
import { largeRuns } from './budgets.ts';
import { plainlyValidOutputs } from './wasm-output-scan.ts';

const RUN_NEEDS: PackProperty['needs'] = ['alloc', 'free', 'create', 'run'];
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The arbitrary `make` builds for each template, built once: `chain` calls
 * its function for every generated value, and building the payload
 * arbitraries (strings, JSON, Messages) cost more than generating from them.
 * Arbitraries hold no state, so the values drawn for a seed are the same.
 */
function perTemplate<T>(make: (template: Template) => fc.Arbitrary<T>): (template: Template) => fc.Arbitrary<T> {
  const built = new Map<Template, fc.Arbitrary<T>>();
  return (template) => {
    let arb = built.get(template);
    if (!arb) built.set(template, (arb = make(template)));
    return arb;
  };
}

/** A template and a payload generated for its declared inports. */
function casesFor(ctx: PropertyContext, payloads: (ports: string[]) => fc.Arbitrary<PayloadCase>) {
  return templateArb(ctx).chain(perTemplate((template) => payloads(template.inports).map((payload) => ({ template: template.name, factoryId: template.factoryId, payload }))));
}

function anyPayload(ports: string[]): fc.Arbitrary<PayloadCase> {
  return fc.oneof({ weight: 3, arbitrary: validPayload(ports) }, invalidJsonPayload(ports), badShapePayload(ports), invalidUtf8Payload(ports));
}

/** One tick on a fresh instance; a trap in it belongs to the id that owns the payload's kind (unless the property checks run itself). */
function tickOn(ctx: PropertyContext, factoryId: number, payload: PayloadCase): { host: CheckedWasmHost; tick: Tick } {
  const host = ctx.fresh();
  const id = createLive(host, factoryId);
  return { host, tick: runOwned(ctx, host, id, payload) };
}

function runOwned(ctx: PropertyContext, host: CheckedWasmHost, id: number, payload: PayloadCase): Tick {
  return ctx.checks?.includes('__reflow_pack_actor_run') ? host.run(id, payload.bytes) : ownedBy(payloadOwner(payload.kind), () => host.run(id, payload.bytes));
}


/** Status 0: outputs are valid Messages; otherwise error JSON. A missing result fails (the form is output-json's: formBroken). */
function demandWellFormed(t: Tick): void {
  if (t.status === 0) {
    if (!t.result) throw formBroken(t, t.outPtr === 0 ? 'no result (out_ptr = 0)' : 'the result lies outside memory', 'status 0 with a result {"<port>": <Message>, …} inside memory');
    let text: string;
    try {
      text = STRICT_UTF8.decode(t.result);
    } catch {
      throw formBroken(t, 'not valid UTF-8', 'status 0 with a UTF-8 JSON result');
    }
    // The plain String/Bytes form is accepted in one pass; anything else gets the full classification and its reason.
    const problem = plainlyValidOutputs(text) ? null : checkOutputs(text);
    if (problem) throw formBroken(t, problem, 'an object whose every value is a valid output Message');
  } else demandErrorJson(t);
}

export const runOutSlots: PackProperty = {
  id: 'wasm.run.out-slots',
  needs: RUN_NEEDS,
  checks: [],
  skipReason: needsTemplates,
  check: (ctx) =>
    runFc(
      ctx,
      ctx.options.runs,
      fc.property(casesFor(ctx, anyPayload), fc.constantFrom('live', 'unknown'), ({ factoryId, payload }, which) => {
        const host = ctx.fresh();
        const id = createLive(host, factoryId);
        const t = which === 'live' ? runOwned(ctx, host, id, payload) : ownedBy('wasm.run.unknown-instance', () => host.run(id + 1000, payload.bytes));
        refuseAllocFailure(t);
        if (slotUnwritten(t.outPtr) || slotUnwritten(t.outLen))
          throw new Violation(tickCall(t), describeAnswer(t), 'both out slots written (the harness pre-fills them with 0xFFFFFFFF, which no correct pack writes)');
        if (t.outPtr !== 0 && !t.resultInBounds) throw new Violation(tickCall(t), describeAnswer(t), `a result inside memory (${t.memBytesAfter} bytes)`);
      }),
    ),
};

export const runOutputJson: PackProperty = {
  id: 'wasm.run.output-json',
  needs: RUN_NEEDS,
  checks: [],
  skipReason: needsTemplates,
  check: (ctx) =>
    runFc(
      ctx,
      ctx.options.runs,
      fc.property(casesFor(ctx, anyPayload), ({ factoryId, payload }) => {
        const { tick } = tickOn(ctx, factoryId, payload);
        refuseAllocFailure(tick);
        demandWellFormed(tick);
      }),
    ),
};

export const runOutputOwned: PackProperty = {
  id: 'wasm.run.output-owned',
  needs: RUN_NEEDS,
  checks: [],
  skipReason: needsTemplates,
  check: (ctx) =>
    runFc(
      ctx,
      ctx.options.runs,
      fc.property(casesFor(ctx, anyPayload), fc.array(fc.integer({ min: 1, max: 4096 }), { maxLength: 3 }), ({ factoryId, payload }, extra) => {
        const host = ctx.fresh();
        const id = createLive(host, factoryId);
        for (const n of extra) host.alloc(n, 'host-held');
        // run() frees the result with (out_ptr, max(out_len, 1)); a trap there fails this property.
        const t = runOwned(ctx, host, id, payload);
        refuseAllocFailure(t);
        if (t.resultOverlaps) {
          const o = t.resultOverlaps;
          throw new Violation(tickCall(t), `${describeAnswer(t)}: the result [${t.outPtr}, ${t.outPtr + Math.max(t.outLen, 1)}) overlaps the host-held ${o.label} block [${o.ptr}, ${o.ptr + o.size})`, 'a result in a fresh block of its own, which the host then owns');
        }
      }),
    ),
};

export const runUnknownInstance: PackProperty = {
  id: 'wasm.run.unknown-instance',
  needs: RUN_NEEDS,
  checks: ['run'],
  skipReason: needsTemplates,
  check: (ctx) =>
    runFc(
      ctx,
      ctx.options.runs,
      fc.property(fc.nat({ max: 3 }), fc.oneof(fc.constant(0), fc.nat({ max: 0xffffffff })), (live, stray) => {
        const host = ctx.fresh();
        const ids = Array.from({ length: live }, (_, i) => createLive(host, ctx.survey.templates[i % ctx.survey.templates.length]!.factoryId));
        if (ids.includes(stray)) return notReached('the stray id drawn was a live instance'); // only ids the pack did not issue are in question
        demandErrorJson(host.run(stray, utf8('{"input":{}}')), `a non-zero status with error JSON: ${stray} is not a live instance (live: [${ids.join(', ')}])`);
      }),
      [[0, 0]],
    ),
};

/** Several payloads per run, on one fresh instance: more cases per instance; shrinking keeps the one that fails. */
function casesFor1to8(ctx: PropertyContext, payloads: (ports: string[]) => fc.Arbitrary<PayloadCase>) {
  return templateArb(ctx).chain(perTemplate((template) => fc.array(payloads(template.inports), { minLength: 1, maxLength: 8 }).map((list) => ({ template: template.name, factoryId: template.factoryId, payloads: list }))));
}

function rejects(id: PackProperty['id'], arb: (ports: string[]) => fc.Arbitrary<PayloadCase>, what: string): PackProperty {
  return {
    id,
    needs: RUN_NEEDS,
    checks: ['run'],
    skipReason: needsTemplates,
    check: (ctx) =>
      runFc(
        ctx,
        ctx.options.runs,
        fc.property(casesFor1to8(ctx, arb), ({ factoryId, payloads }) => {
          const host = ctx.fresh();
          const instance = createLive(host, factoryId);
          for (const payload of payloads) {
            const tick = host.run(instance, payload.bytes);
            refuseAllocFailure(tick);
            demandErrorJson(tick, `a non-zero status with error JSON: ${what} (${payload.kind})`);
          }
        }),
      ),
  };
}

export const runInvalidUtf8 = rejects('wasm.run.invalid-utf8', invalidUtf8Payload, 'the payload is not valid UTF-8');
export const runInvalidJson = rejects('wasm.run.invalid-json', invalidJsonPayload, 'the payload is not JSON');
export const runBadShape = rejects('wasm.run.bad-shape', badShapePayload, 'the payload is JSON of the wrong shape');

/** Status 0 or -4 with well-formed output; `tolerate` may allow more. */
function accepts(t: Tick, payload: PayloadCase, tolerate?: (t: Tick) => boolean): void {
  refuseAllocFailure(t);
  if (t.status !== 0 && t.status !== RunStatus.ActorError && !tolerate?.(t)) {
    const meaning = PAYLOAD_REJECTIONS.includes(t.status) ? ' (a rejection of the payload)' : '';
    throw new Violation(tickCall(t), `${describeAnswer(t)}${meaning}`, `status 0, or -4 (an actor error), for a valid payload (${payload.kind})`);
  }
  demandWellFormed(t);
}

export const runValidPayload: PackProperty = {
  id: 'wasm.run.valid-payload',
  needs: RUN_NEEDS,
  checks: ['run'],
  skipReason: needsTemplates,
  check: (ctx) =>
    runFc(
      ctx,
      ctx.options.runs,
      fc.property(casesFor1to8(ctx, (ports) => validPayload(ports)), ({ factoryId, payloads }) => {
        const host = ctx.fresh();
        const instance = createLive(host, factoryId);
        for (const payload of payloads) accepts(host.run(instance, payload.bytes), payload);
      }),
    ),
};

/** An escaped lone surrogate (`\ud800` not part of a pair) in JSON text written by JSON.stringify. */
const LONE_SURROGATE_ESCAPE = /(?<!\\)(?:\\\\)*\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

export const runUtf8Edges: PackProperty = {
  id: 'wasm.run.utf8-edges',
  needs: RUN_NEEDS,
  checks: ['run'],
  skipReason: needsTemplates,
  check: (ctx) =>
    runFc(
      ctx,
      ctx.options.runs,
      fc.property(casesFor1to8(ctx, (ports) => validPayload(ports, { stringArb: utf8EdgeString({ loneSurrogates: true }) })), ({ factoryId, payloads }) => {
        const host = ctx.fresh();
        const instance = createLive(host, factoryId);
        for (const payload of payloads) {
          const lone = LONE_SURROGATE_ESCAPE.test(payload.text ?? '');
          accepts(host.run(instance, payload.bytes), payload, (t) => lone && t.status === RunStatus.ParseError);
        }
      }),
    ),
};

export const runLargePayload: PackProperty = {
  id: 'wasm.run.large-payload',
  needs: RUN_NEEDS,
  checks: ['run'],
  skipReason: needsTemplates,
  check: (ctx) =>
    runFc(
      ctx,
      largeRuns(ctx.options.runs),
      fc.property(casesFor(ctx, largePayload), ({ factoryId, payload }) => {
        const { tick } = tickOn(ctx, factoryId, payload);
        // Memory may honestly run out here: no block, or no result, passes.
        if (tick.allocFailed || tick.outPtr === 0) return;
        if (tick.status === 0 || tick.status === RunStatus.ActorError) demandWellFormed(tick);
        else demandErrorJson(tick);
      }),
    ),
};

/** The 1–16 MiB property takes a twentieth of --runs (at least 2). */
export { largeRuns };

type CodeCase = { expect: -1 | -2 | -3; what: string; factoryId: number; payload: PayloadCase | null };

export const runStatusCodes: PackProperty = {
  id: 'wasm.run.status-codes',
  needs: RUN_NEEDS,
  checks: [],
  skipReason: needsTemplates,
  check(ctx) {
    const arb: fc.Arbitrary<CodeCase> = fc.oneof(
      templateArb(ctx).map((t: Template): CodeCase => ({ expect: -1, what: 'unknown instance', factoryId: t.factoryId, payload: null })),
      casesFor(ctx, invalidUtf8Payload).map((c): CodeCase => ({ expect: -2, what: 'payload not UTF-8', ...c })),
      casesFor(ctx, invalidJsonPayload).map((c): CodeCase => ({ expect: -3, what: 'payload does not parse', ...c })),
      casesFor(ctx, badShapePayload).map((c): CodeCase => ({ expect: -3, what: 'payload does not parse (wrong shape)', ...c })),
    );
    return runFc(
      ctx,
      ctx.options.runs,
      fc.property(arb, (c) => {
        const host = ctx.fresh();
        const id = createLive(host, c.factoryId);
        const t = c.payload ? runOwned(ctx, host, id, c.payload) : ownedBy('wasm.run.unknown-instance', () => host.run(id + 1000, utf8('{"input":{}}')));
        refuseAllocFailure(t);
        // Accepting what must be rejected is the class's own statement; this one judges which code a rejection carries.
        if (t.status === 0) throw new StepBroken(c.payload ? payloadOwner(c.payload.kind) : 'wasm.run.unknown-instance', tickCall(t), describeAnswer(t), `a rejection (${c.what})`);
        if (t.status !== c.expect) throw new Violation(tickCall(t), describeAnswer(t), `status ${c.expect} (${c.what}), the SDK's code`);
      }),
    );
  },
};

