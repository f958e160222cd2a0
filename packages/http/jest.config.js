export default { preset: '@papyra/jest-preset' };
