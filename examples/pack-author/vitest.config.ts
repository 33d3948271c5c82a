import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['conformance.test.ts'],
    // One line per property, so CI logs name each passing and failing id.
    reporters: ['verbose'],
  },
});
