/**
 * Two jest projects: `unit` (the wx APIs mocked per test, jsdom as RECIPES.md prescribes for
 * miniprogram-simulate) and `e2e` (the same utils/api.js under Node, with a wx over real HTTP
 * against an embedded server that e2e/globalSetup.js starts and e2e/globalTeardown.js stops).
 */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'jsdom',
      testMatch: ['<rootDir>/__tests__/**/*.test.js'],
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/e2e/**/*.test.js'],
      globalSetup: '<rootDir>/e2e/globalSetup.js',
      globalTeardown: '<rootDir>/e2e/globalTeardown.js',
    },
  ],
};
