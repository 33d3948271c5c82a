// Breaks host.register.once: registerTwice.
import { makeLoader } from '../loader.ts';

export default makeLoader({ registerTwice: true });
