module.exports = require('../../jest.preset.cjs')('update-rules', __dirname);
