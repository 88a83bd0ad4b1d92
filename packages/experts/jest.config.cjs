module.exports = require('../../jest.preset.cjs')('experts', __dirname);
