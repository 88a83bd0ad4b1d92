import pc from 'picocolors';

/**
 * Colours for one output stream: on only when it is a TTY (so logs and pipes stay plain), unless
 * `NO_COLOR` is set or `FORCE_COLOR` says otherwise.
 */
export function colorsFor(stream: { isTTY?: boolean }) {
  const env = process.env;
  const on =
    !('NO_COLOR' in env) &&
    (env.FORCE_COLOR !== undefined ? env.FORCE_COLOR !== '0' : stream.isTTY === true);
  return pc.createColors(on);
}

/** Colours for stdout. */
export const out = colorsFor(process.stdout);
/** Colours for stderr. */
export const err = colorsFor(process.stderr);
