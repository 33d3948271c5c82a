// Worker threads start here: tsx's loader has to be registered inside the
// worker before the TypeScript worker module can be imported.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
