module.exports = require('../../jest.preset.cjs')('models', __dirname);
