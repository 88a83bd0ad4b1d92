module.exports = require('../../jest.preset.cjs')('datasets', __dirname);
