// Breaks host.payload.roundtrip: latin1Payload.
import { makeLoader } from '../loader.ts';

export default makeLoader({ latin1Payload: true });
