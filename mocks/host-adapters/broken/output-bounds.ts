// Breaks host.output.bounds: trustOutSlots.
import { makeLoader } from '../loader.ts';

export default makeLoader({ trustOutSlots: true });
