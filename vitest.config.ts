import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores on CI: model tests share one TensorFlow.js wasm runtime per worker.
    pool: "forks",
    maxWorkers: 2,
  },
});
