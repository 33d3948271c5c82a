// ABI.md's worked examples of the version handshake, and the call guard.
import { describe, expect, it } from 'vitest';
import { abiVersionFromRustcVV, fnv1a } from '../harness/abi/abi.ts';
import { CallGuard, newGuardBuffer, Watchdog } from '../harness/kernel/call-guard.ts';
import { showBytes } from '../harness/abi/readable.ts';

const DEBIAN_163 = 'rustc 1.63.0\nbinary: rustc\ncommit-hash: unknown\ncommit-date: unknown\nhost: x86_64-unknown-linux-gnu\nrelease: 1.63.0\nLLVM version: 14.0.6\n';

describe('ABI version handshake', () => {
  it('hashes the 137 bytes of Debian rustc 1.63 `rustc -vV` and the revision to 2522422', () => {
    expect(new TextEncoder().encode(DEBIAN_163)).toHaveLength(137);
    expect(abiVersionFromRustcVV(DEBIAN_163)).toBe(2522422);
    expect(abiVersionFromRustcVV(DEBIAN_163)).toBe(0x00267d36);
  });

  it('FNV-1a over the four revision bytes alone is 0xfb69b604', () => {
    expect(fnv1a(new Uint8Array([1, 0, 0, 0]))).toBe(0xfb69b604);
  });

  it('depends on every byte, the trailing newline included', () => {
    expect(abiVersionFromRustcVV(DEBIAN_163.trimEnd())).not.toBe(2522422);
    expect(abiVersionFromRustcVV(DEBIAN_163, 2)).not.toBe(2522422);
  });
});

describe('call guard and watchdog', () => {
  it('names an overrunning call with its arguments, and not a call that returned', () => {
    const buf = newGuardBuffer();
    const guard = new CallGuard(buf, 100);
    const dog = new Watchdog(buf);
    guard.enter(7, 5, 1, 2, 3, -8, 5, 50);
    expect(dog.overdue(0)).toBeNull(); // first sight starts the clock
    expect(dog.overdue(140)).toBeNull(); // within 100 ms + 50 ms of payload budget
    expect(dog.overdue(151)).toEqual({ call: '__reflow_pack_actor_run', args: [1, 2, 3, 0xfffffff8, 5], budgetMs: 150, elapsedMs: 151 });
    guard.leave();
    expect(dog.overdue(1000)).toBeNull();
  });
});

describe('readable bytes', () => {
  it('shows UTF-8 as text and anything else as hex, with the length', () => {
    expect(showBytes(new TextEncoder().encode('{"a":1}'))).toBe('"{\\"a\\":1}" (7 bytes)');
    expect(showBytes(new Uint8Array([0xc0, 0xaf]))).toBe('hex c0 af (2 bytes, not UTF-8)');
  });
});
