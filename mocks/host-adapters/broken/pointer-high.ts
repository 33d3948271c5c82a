// Breaks host.pointer.high: signedPointers.
import { makeLoader } from '../loader.ts';

export default makeLoader({ signedPointers: true });
