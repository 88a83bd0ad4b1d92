module.exports = require('../../jest.preset.cjs')('trainer', __dirname);
