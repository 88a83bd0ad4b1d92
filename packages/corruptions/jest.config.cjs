module.exports = require('../../jest.preset.cjs')('corruptions', __dirname);
