// The execution kernel on its own: a sandbox over a scripted transport and
// marker answers, times out (killing the sandbox) and reports crashes; the
// scheduler runs every id once, in order per lane, on at most `lanes` lanes;
// the line marker tells a hung call from a silent process.
import { describe, expect, it } from 'vitest';
import { LineMarker } from '../harness/kernel/markers.ts';
import { Sandbox, schedule, type CallMarker, type InProgress, type Transport } from '../harness/kernel/sandbox.ts';

function scripted() {
  const sent: string[] = [];
  let onMessage: (m: string) => void = () => {};
  let onDeath: (why: string) => void = () => {};
  let killed = 0;
  const transport: Transport<string, string> = {
    send: (q) => sent.push(q),
    onMessage: (f) => (onMessage = f),
    onDeath: (f) => (onDeath = f),
    kill: () => void killed++,
  };
  let late: InProgress | null = null;
  const marker: CallMarker = { asking: () => {}, alive: () => {}, overdue: () => late, current: () => ({ call: 'the call in progress', budgetMs: 5 }) };
  return { transport, marker, sent, answer: (m: string) => onMessage(m), die: (why: string) => onDeath(why), hang: (c: InProgress) => (late = c), killed: () => killed };
}

describe('the sandbox', () => {
  it('sends the question and resolves with the answer', async () => {
    const s = scripted();
    const box = new Sandbox(s.transport, s.marker);
    const v = box.ask('q1');
    expect(s.sent).toEqual(['q1']);
    s.answer('a1');
    expect(await v).toEqual({ type: 'answer', answer: 'a1' });
    expect(box.dead).toBe(false);
  });

  it('a call past its budget is a timeout naming the call, and the sandbox is killed', async () => {
    const s = scripted();
    const box = new Sandbox(s.transport, s.marker);
    const v = box.ask('q');
    s.hang({ call: '__reflow_pack_run', args: [1, 2], budgetMs: 10 });
    expect(await v).toEqual({ type: 'timeout', call: { call: '__reflow_pack_run', args: [1, 2], budgetMs: 10 } });
    expect(s.killed()).toBe(1);
    expect(box.dead).toBe(true);
  });

  it('a sandbox that dies is a crash naming the call in progress; asking it again is a crash at once', async () => {
    const s = scripted();
    const box = new Sandbox(s.transport, s.marker);
    const v = box.ask('q');
    s.die('killed with SIGSEGV');
    expect(await v).toEqual({ type: 'crash', why: 'killed with SIGSEGV', call: { call: 'the call in progress', budgetMs: 5 } });
    expect(box.dead).toBe(true);
    const again = await box.ask('q2');
    expect(again.type).toBe('crash');
    expect(s.sent).toEqual(['q']);
  });
});

describe('the scheduler', () => {
  it('runs every id once, on at most `lanes` lanes, each lane in queue order', async () => {
    const ran: [number, number][] = [];
    let busy = 0;
    let most = 0;
    await schedule([0, 1, 2, 3, 4, 5, 6], 3, async (id, lane) => {
      busy++;
      most = Math.max(most, busy);
      await new Promise((r) => setTimeout(r, (id % 3) * 3));
      ran.push([id, lane]);
      busy--;
    });
    expect(ran.map(([id]) => id).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(3);
    for (const lane of [0, 1, 2]) {
      const ids = ran.filter(([, l]) => l === lane).map(([id]) => id);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
  });

  it('one lane runs strictly one after another; no ids, no runs', async () => {
    const order: number[] = [];
    await schedule([3, 1, 2], 1, async (id) => void order.push(id));
    expect(order).toEqual([3, 1, 2]);
    let calls = 0;
    await schedule([], 4, async () => void calls++);
    expect(calls).toBe(0);
  });
});

describe('the line marker (child processes)', () => {
  it('counts the process start as a call with grace, then names the reported call when it overruns', () => {
    const m = new LineMarker(100, 1000, 'the start');
    const t0 = performance.now();
    expect(m.overdue(t0 + 500)).toBeNull(); // within start grace
    expect(m.overdue(t0 + 5000)).toMatchObject({ call: 'the start', kind: 'start', budgetMs: 1100 });
    m.line('E register\treflow_pack_register(vtable)');
    const t1 = performance.now();
    expect(m.overdue(t1 + 50)).toBeNull();
    expect(m.overdue(t1 + 5000)).toMatchObject({ call: 'reflow_pack_register(vtable)', kind: 'register', budgetMs: 100 });
    expect(m.inProgress()).toEqual({ kind: 'register', call: 'reflow_pack_register(vtable)' });
  });

  it('after a call ends, a process silent past the grace is overdue as idle; the last call still names a crash', () => {
    const m = new LineMarker(100, 1000, 'the start');
    m.line('E drop\tdrop(0x1)');
    m.line('L');
    expect(m.inProgress()).toBeNull();
    expect(m.current()).toMatchObject({ call: 'drop(0x1)' });
    m.asking();
    expect(m.overdue(performance.now() + 5000)).toMatchObject({ idle: true, budgetMs: 1100 });
  });
});
