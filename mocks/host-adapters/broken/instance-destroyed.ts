// Breaks host.instance.destroyed: neverDestroy.
import { makeLoader } from '../loader.ts';

export default makeLoader({ neverDestroy: true });
