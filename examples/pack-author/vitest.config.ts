import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['conformance.test.ts'],
    // One line per property, so CI logs name each passing and failing id.
    reporters: ['verbose'],
    server: {
      deps: {
        // packcheck ships TypeScript sources. Vitest leaves node_modules to
        // Node, and Node 20 cannot import .ts files: have Vite transform it.
        inline: ['packcheck'],
      },
    },
  },
});
