// The per-severity constants of the ImageNet-C protocol (spec §3), per profile.

/** Constant tables: ImageNet-C (224 px), Tiny-ImageNet-C (64 px), CIFAR-10-C (32 px). */
export const PROFILES = ['imagenet', 'tiny', 'cifar'] as const;
/** One of {@link PROFILES}. */
export type Profile = (typeof PROFILES)[number];

/** The 15 benchmark corruptions, in the order of the ImageNet-C paper. */
export const BENCHMARK_CORRUPTIONS = [
  'gaussian_noise',
  'shot_noise',
  'impulse_noise',
  'defocus_blur',
  'glass_blur',
  'motion_blur',
  'zoom_blur',
  'snow',
  'frost',
  'fog',
  'brightness',
  'contrast',
  'elastic_transform',
  'pixelate',
  'jpeg_compression',
] as const;

/** The 4 held-out extras. */
export const EXTRA_CORRUPTIONS = ['speckle_noise', 'gaussian_blur', 'spatter', 'saturate'] as const;

/** All 19 corruptions. */
export const CORRUPTIONS = [...BENCHMARK_CORRUPTIONS, ...EXTRA_CORRUPTIONS] as const;
/** One of {@link CORRUPTIONS}. */
export type CorruptionName = (typeof CORRUPTIONS)[number];

/** The five severities of one corruption in one profile: a number or a parameter tuple each. */
export type Row = readonly (number | readonly number[])[];

/** `TABLE[corruption][profile][severity − 1]`: a number or a tuple in the order of the spec's "param" column. */
export const TABLE: Readonly<Record<CorruptionName, Readonly<Record<Profile, Row>>>> = {
  gaussian_noise: {
    imagenet: [0.08, 0.12, 0.18, 0.26, 0.38],
    tiny: [0.04, 0.08, 0.12, 0.15, 0.18],
    cifar: [0.04, 0.06, 0.08, 0.09, 0.1],
  },
  shot_noise: {
    imagenet: [60, 25, 12, 5, 3],
    tiny: [250, 100, 50, 30, 15],
    cifar: [500, 250, 100, 75, 50],
  },
  impulse_noise: {
    imagenet: [0.03, 0.06, 0.09, 0.17, 0.27],
    tiny: [0.01, 0.02, 0.05, 0.08, 0.14],
    cifar: [0.01, 0.02, 0.03, 0.05, 0.07],
  },
  defocus_blur: {
    imagenet: [
      [3, 0.1],
      [4, 0.5],
      [6, 0.5],
      [8, 0.5],
      [10, 0.5],
    ],
    tiny: [
      [0.5, 0.6],
      [1, 0.1],
      [1.5, 0.1],
      [2.5, 0.01],
      [3, 0.1],
    ],
    cifar: [
      [0.3, 0.4],
      [0.4, 0.5],
      [0.5, 0.6],
      [1, 0.2],
      [1.5, 0.1],
    ],
  },
  glass_blur: {
    imagenet: [
      [0.7, 1, 2],
      [0.9, 2, 1],
      [1, 2, 3],
      [1.1, 3, 2],
      [1.5, 4, 2],
    ],
    tiny: [
      [0.1, 1, 1],
      [0.5, 1, 1],
      [0.6, 1, 2],
      [0.7, 2, 1],
      [0.9, 2, 2],
    ],
    cifar: [
      [0.05, 1, 1],
      [0.25, 1, 1],
      [0.4, 1, 1],
      [0.25, 1, 2],
      [0.4, 1, 2],
    ],
  },
  motion_blur: {
    imagenet: [
      [10, 3],
      [15, 5],
      [15, 8],
      [15, 12],
      [20, 15],
    ],
    tiny: [
      [10, 1],
      [10, 1.5],
      [10, 2],
      [10, 2.5],
      [12, 3],
    ],
    cifar: [
      [6, 1],
      [6, 1.5],
      [6, 2],
      [8, 2],
      [9, 2.5],
    ],
  },
  // |Z|: the zoom factors are 1 + step·k, k = 0..|Z|−1 (steps in ZOOM_STEPS).
  zoom_blur: {
    imagenet: [12, 16, 11, 13, 11],
    tiny: [7, 12, 16, 21, 26],
    cifar: [7, 12, 16, 21, 26],
  },
  snow: {
    imagenet: [
      [0.1, 0.3, 3, 0.5, 10, 4, 0.8],
      [0.2, 0.3, 2, 0.5, 12, 4, 0.7],
      [0.55, 0.3, 4, 0.9, 12, 8, 0.7],
      [0.55, 0.3, 4.5, 0.85, 12, 8, 0.65],
      [0.55, 0.3, 2.5, 0.85, 12, 12, 0.55],
    ],
    tiny: [
      [0.1, 0.2, 1, 0.6, 8, 3, 0.8],
      [0.1, 0.2, 1, 0.5, 10, 4, 0.8],
      [0.15, 0.3, 1.75, 0.55, 10, 4, 0.7],
      [0.25, 0.3, 2.25, 0.6, 12, 6, 0.65],
      [0.3, 0.3, 1.25, 0.65, 14, 12, 0.6],
    ],
    cifar: [
      [0.1, 0.2, 1, 0.6, 8, 3, 0.95],
      [0.1, 0.2, 1, 0.5, 10, 4, 0.9],
      [0.15, 0.3, 1.75, 0.55, 10, 4, 0.9],
      [0.25, 0.3, 2.25, 0.6, 12, 6, 0.85],
      [0.3, 0.3, 1.25, 0.65, 14, 12, 0.8],
    ],
  },
  frost: {
    imagenet: [
      [1, 0.4],
      [0.8, 0.6],
      [0.7, 0.7],
      [0.65, 0.7],
      [0.6, 0.75],
    ],
    tiny: [
      [1, 0.3],
      [0.9, 0.4],
      [0.8, 0.45],
      [0.75, 0.5],
      [0.7, 0.55],
    ],
    cifar: [
      [1, 0.2],
      [1, 0.3],
      [0.9, 0.4],
      [0.85, 0.4],
      [0.75, 0.45],
    ],
  },
  fog: {
    imagenet: [
      [1.5, 2],
      [2, 2],
      [2.5, 1.7],
      [2.5, 1.5],
      [3, 1.4],
    ],
    tiny: [
      [0.4, 3],
      [0.7, 3],
      [1, 2.5],
      [1.5, 2],
      [2, 1.75],
    ],
    cifar: [
      [0.2, 3],
      [0.5, 3],
      [0.75, 2.5],
      [1, 2],
      [1.5, 1.75],
    ],
  },
  brightness: {
    imagenet: [0.1, 0.2, 0.3, 0.4, 0.5],
    tiny: [0.1, 0.2, 0.3, 0.4, 0.5],
    cifar: [0.05, 0.1, 0.15, 0.2, 0.3],
  },
  contrast: {
    imagenet: [0.4, 0.3, 0.2, 0.1, 0.05],
    tiny: [0.4, 0.3, 0.2, 0.1, 0.05],
    cifar: [0.75, 0.5, 0.4, 0.3, 0.15],
  },
  elastic_transform: {
    imagenet: [
      [488, 170.8, 24.4],
      [488, 19.52, 48.8],
      [12.2, 2.44, 4.88],
      [17.08, 2.44, 4.88],
      [29.28, 2.44, 4.88],
    ],
    tiny: [
      [0, 0, 5.12],
      [3.2, 19.2, 3.84],
      [6.4, 5.12, 3.84],
      [6.4, 1.92, 1.92],
      [10.24, 1.92, 1.28],
    ],
    cifar: [
      [0, 0, 2.56],
      [1.6, 6.4, 2.24],
      [2.56, 1.92, 1.92],
      [3.2, 1.28, 1.6],
      [3.2, 0.96, 0.96],
    ],
  },
  pixelate: {
    imagenet: [0.6, 0.5, 0.4, 0.3, 0.25],
    tiny: [0.9, 0.8, 0.7, 0.6, 0.5],
    cifar: [0.95, 0.9, 0.85, 0.75, 0.65],
  },
  jpeg_compression: {
    imagenet: [25, 18, 15, 10, 7],
    tiny: [65, 58, 50, 40, 25],
    cifar: [80, 65, 58, 50, 40],
  },
  speckle_noise: {
    imagenet: [0.15, 0.2, 0.35, 0.45, 0.6],
    tiny: [0.15, 0.2, 0.25, 0.3, 0.35],
    cifar: [0.06, 0.1, 0.12, 0.16, 0.2],
  },
  gaussian_blur: {
    imagenet: [1, 2, 3, 4, 6],
    tiny: [0.5, 0.75, 1, 1.25, 1.5],
    cifar: [0.4, 0.6, 0.7, 0.8, 1],
  },
  spatter: {
    imagenet: [
      [0.65, 0.3, 4, 0.69, 0.6, 0],
      [0.65, 0.3, 3, 0.68, 0.6, 0],
      [0.65, 0.3, 2, 0.68, 0.5, 0],
      [0.65, 0.3, 1, 0.65, 1.5, 1],
      [0.67, 0.4, 1, 0.65, 1.5, 1],
    ],
    tiny: [
      [0.62, 0.1, 0.7, 0.7, 0.6, 0],
      [0.65, 0.1, 0.8, 0.7, 0.6, 0],
      [0.65, 0.3, 1, 0.69, 0.6, 0],
      [0.65, 0.1, 0.7, 0.68, 0.6, 1],
      [0.65, 0.1, 0.5, 0.67, 0.6, 1],
    ],
    cifar: [
      [0.62, 0.1, 0.7, 0.7, 0.5, 0],
      [0.65, 0.1, 0.8, 0.7, 0.5, 0],
      [0.65, 0.3, 1, 0.69, 0.5, 0],
      [0.65, 0.1, 0.7, 0.69, 0.6, 1],
      [0.65, 0.1, 0.5, 0.68, 0.6, 1],
    ],
  },
  saturate: {
    imagenet: [
      [0.3, 0],
      [0.1, 0],
      [2, 0],
      [5, 0.1],
      [20, 0.2],
    ],
    tiny: [
      [0.3, 0],
      [0.1, 0],
      [2, 0],
      [5, 0.1],
      [30, 0.2],
    ],
    cifar: [
      [0.3, 0],
      [0.1, 0],
      [1.5, 0],
      [2, 0.1],
      [2.5, 0.2],
    ],
  },
};

/** Zoom-blur factor steps: imagenet per severity (0.01, 0.01, 0.02, 0.02, 0.03); tiny and cifar 0.01. */
export const ZOOM_STEPS: Readonly<Record<Profile, readonly number[]>> = {
  imagenet: [0.01, 0.01, 0.02, 0.02, 0.03],
  tiny: [0.01, 0.01, 0.01, 0.01, 0.01],
  cifar: [0.01, 0.01, 0.01, 0.01, 0.01],
};

/** Reference frost textures (mean and std of R, G, B; autocorrelation half-length in px) for the procedural frost. */
export const FROST_TEXTURES = [
  {
    name: 'frost1',
    width: 900,
    height: 600,
    mean: [77.7, 149.1, 165.7],
    std: [26.9, 16.5, 15.3],
    corr: [29, 35],
  },
  {
    name: 'frost2',
    width: 560,
    height: 315,
    mean: [200.8, 205.4, 214.5],
    std: [21.4, 22.1, 22.6],
    corr: [13, 8],
  },
  {
    name: 'frost3',
    width: 560,
    height: 315,
    mean: [200.8, 205.4, 214.5],
    std: [21.4, 22.1, 22.6],
    corr: [13, 8],
  },
  {
    name: 'frost4',
    width: 527,
    height: 350,
    mean: [137.6, 152.8, 165.2],
    std: [28.5, 28.5, 29.9],
    corr: [5, 5],
  },
  {
    name: 'frost5',
    width: 660,
    height: 495,
    mean: [112.4, 123.4, 134.8],
    std: [44.4, 43.3, 41.7],
    corr: [10, 7],
  },
] as const;

/** AlexNet's published average errors per corruption (ImageNet-C), the mCE baseline. */
export const ALEXNET_ERRORS: Readonly<Record<(typeof BENCHMARK_CORRUPTIONS)[number], number>> = {
  gaussian_noise: 0.886428,
  shot_noise: 0.894468,
  impulse_noise: 0.92264,
  defocus_blur: 0.81988,
  glass_blur: 0.826268,
  motion_blur: 0.785948,
  zoom_blur: 0.79836,
  snow: 0.866816,
  frost: 0.826572,
  fog: 0.819324,
  brightness: 0.564592,
  contrast: 0.853204,
  elastic_transform: 0.646056,
  pixelate: 0.71784,
  jpeg_compression: 0.6065,
};

/** Default profile for an image size: max(H, W) ≤ 32 → cifar, ≤ 64 → tiny, else imagenet. */
export function profileForSize(height: number, width: number): Profile {
  const m = Math.max(height, width);
  return m <= 32 ? 'cifar' : m <= 64 ? 'tiny' : 'imagenet';
}
