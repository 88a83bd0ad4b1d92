module.exports = require('../../jest.preset.cjs')('tracking', __dirname);
