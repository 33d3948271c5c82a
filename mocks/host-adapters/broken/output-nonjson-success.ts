// Breaks host.output.nonjson-success: bareOutputs.
import { makeLoader } from '../loader.ts';

export default makeLoader({ bareOutputs: true });
