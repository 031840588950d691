// Lint: typescript-eslint's recommended rules (syntax-only, fast) over the whole tree.
// Layout is Prettier's job (.prettierrc.json, print width 120, `npm run format`); eslint-config-prettier
// turns off the rules that would fight it. Prettier does not break strings or comments, so
// @stylistic/max-len holds every other line to 120 characters (a long message or table row may run
// past). `npm run lint` runs both checks; .ci/run runs it before the tests.
import js from "@eslint/js";
import stylistic from "@stylistic/eslint-plugin";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "node_modules/**",
      "runs/**",
      "coverage/**",
      "**/*.wasm.ts",
      "grammar/diagrams.html",
      "test-artifacts/**",
      ".tmp/**",
      "bench/out/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: "module" },
    rules: {
      // `_`-prefixed arguments and variables are deliberately unused (callbacks, destructuring).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      // Debug output goes through the CLI's renderers, not console.log, in library code.
      "no-console": ["error", { allow: ["warn", "error"] }],
      eqeqeq: ["error", "always", { null: "ignore" }],
      "prefer-const": "error",
    },
  },
  {
    // Tests, benches and scripts print figures and may use console.
    files: ["tests/**", "bench/**", "scripts/**", "playground/**"],
    rules: { "no-console": "off" },
  },
  prettier,
  {
    plugins: { "@stylistic": stylistic },
    rules: {
      "@stylistic/max-len": [
        "error",
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
);
