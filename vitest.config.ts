import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Integration tests start their own sandbox on free loopback ports, so files can run in parallel.
    pool: 'forks',
    // A safety net, not a speed test: a busy 2-core CI machine runs the integration scenarios at
    // half speed or less, and no assertion depends on how long anything took.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  },
});
