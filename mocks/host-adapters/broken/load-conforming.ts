// Breaks host.load.conforming: dropPorts.
import { makeLoader } from '../loader.ts';

export default makeLoader({ dropPorts: true });
