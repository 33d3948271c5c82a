// Host-adapter workers start here: tsx's loader first, then the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
