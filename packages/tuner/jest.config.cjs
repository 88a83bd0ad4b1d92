module.exports = require('../../jest.preset.cjs')('tuner', __dirname);
