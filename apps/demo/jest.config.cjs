module.exports = require('../../jest.preset.cjs')('demo', __dirname);
