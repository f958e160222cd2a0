import preset from '../../../tooling/jest-preset/jest-preset.js';
export default { ...preset, reporters: ['default'] };
