module.exports = require('../../jest.preset.cjs')('onnx', __dirname);
