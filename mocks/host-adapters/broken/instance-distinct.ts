// Breaks host.instance.distinct: sharedInstances.
import { makeLoader } from '../loader.ts';

export default makeLoader({ sharedInstances: true });
