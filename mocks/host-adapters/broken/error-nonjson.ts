// Breaks host.error.nonjson: throwOnNonJsonError.
import { makeLoader } from '../loader.ts';

export default makeLoader({ throwOnNonJsonError: true });
