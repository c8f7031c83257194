// ESLint flat config: typescript-eslint's recommended rules (syntax only, so lint stays fast),
// the adapter boundary (carriers/ and providers/ import nothing from app/ or call/, nor each other)
// and the 160-character line limit that Prettier cannot enforce on long strings and comments.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const adapterBoundary = (self, other) => ({
  files: [`src/${self}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          { regex: '(^|/)(app|call)(/|$)', message: 'adapters import nothing from app/ or call/: take what you need as a parameter' },
          { regex: `(^|/)${other}(/|$)`, message: 'an adapter never sees another kind of adapter' },
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'logs/', 'out/', 'coverage/', 'bench/results/', '**/*.cjs', 'test/helpers/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { process: 'readonly', Buffer: 'readonly', console: 'readonly' } },
    rules: {
      'max-len': ['error', { code: 160, ignoreUrls: true, ignoreRegExpLiterals: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-undef': 'off',
    },
  },
  adapterBoundary('carriers', 'providers'),
  adapterBoundary('providers', 'carriers'),
);
