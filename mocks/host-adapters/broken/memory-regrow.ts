// Breaks host.memory.regrow: cacheMemoryView.
import { makeLoader } from '../loader.ts';

export default makeLoader({ cacheMemoryView: true });
