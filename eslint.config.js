import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'test-build/**', 'coverage/**', '.tap/**', 'node_modules/**'] }),
  {
    rules: {
      // A TypeBox schema and its static type share one name; tsc catches real redeclarations.
      '@typescript-eslint/no-redeclare': 'off',
      // `void reply.header(…)` marks a deliberately ignored thenable.
      'no-void': ['error', { allowAsStatement: true }]
    }
  },
  {
    // The console runs in the browser, as plain ES modules with no build step.
    files: ['console/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(['window', 'document', 'location', 'history', 'fetch', 'sessionStorage', 'structuredClone', 'URLSearchParams', 'Node'].map((name) => [name, 'readonly']))
    }
  }
]
