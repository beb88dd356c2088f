// ESLint (flat config) for mapapp's own browser code: plain scripts, no bundler, one global namespace each.
"use strict";

const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  {ignores: ["static/vendor/**", "node_modules/**", ".venv/**", "build/**", "dist/**"]},
  {
    files: ["static/**/*.js"],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: "script",
      globals: {...globals.browser, L: "readonly"},
    },
    rules: {
      ...js.configs.recommended.rules,
      "strict": ["error", "function"],
      "no-implicit-globals": "error",
      "eqeqeq": ["error", "always"],
      "no-unused-vars": ["error", {args: "none"}],
      "no-var": "off",
    },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: {sourceType: "commonjs", globals: globals.node},
  },
];
