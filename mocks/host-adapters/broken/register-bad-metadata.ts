// Breaks host.register.bad-metadata: bareMetadata.
import { makeLoader } from '../loader.ts';

export default makeLoader({ bareMetadata: true });
