// Breaks host.register.duplicate: shadowDuplicates.
import { makeLoader } from '../loader.ts';

export default makeLoader({ shadowDuplicates: true });
