module.exports = require('../../jest.preset.cjs')('training', __dirname);
