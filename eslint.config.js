import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'coverage/**', '.tap/**', 'node_modules/**'] }),
  {
    rules: {
      // A TypeBox schema and its static type share one name; tsc catches real redeclarations.
      '@typescript-eslint/no-redeclare': 'off',
      // `void reply.header(…)` marks a deliberately ignored thenable.
      'no-void': ['error', { allowAsStatement: true }]
    }
  }
]
