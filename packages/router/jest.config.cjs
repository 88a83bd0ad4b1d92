module.exports = require('../../jest.preset.cjs')('router', __dirname);
