// Breaks host.run.live-blocks: slotOutsideBlock.
import { makeLoader } from '../loader.ts';

export default makeLoader({ slotOutsideBlock: true });
