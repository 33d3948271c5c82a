// Native packs run in a child process of their own (a crash takes only it
// down); tsx's loader is registered here before the TypeScript child module.
import { register } from 'tsx/esm/api';

register();
await import('./child.ts');
