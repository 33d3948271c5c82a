// Breaks host.alloc.paired: leakOnAllocFailure.
import { makeLoader } from '../loader.ts';

export default makeLoader({ leakOnAllocFailure: true });
