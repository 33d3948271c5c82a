// Breaks host.output.freed: freeOnlyPtrAndLen.
import { makeLoader } from '../loader.ts';

export default makeLoader({ freeOnlyPtrAndLen: true });
