import { defineConfig } from "vitest/config"

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts", "hil-tests/**/*.test.ts", "tools/**/*.test.ts"],
        testTimeout: 60000,
    },
})
