// Breaks host.create.zero: ignoreCreateZero.
import { makeLoader } from '../loader.ts';

export default makeLoader({ ignoreCreateZero: true });
