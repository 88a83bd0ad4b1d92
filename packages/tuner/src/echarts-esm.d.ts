// ECharts' one-file ES module build: one file for Node to load (~0.1 s) instead of the several
// hundred of the package's main entry (~0.7 s, ~1.4 s under tsx), with the main entry's types.
declare module 'echarts/dist/echarts.esm.min' {
  export * from 'echarts';
}
