// Headless Debian Chromium through playwright-core (never `playwright install`: no downloads).
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser (override with CHROMIUM_PATH). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags verified on this machine (toolchain.md). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Whether the browser is installed. */
export function hasChromium(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Launches headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS, headless: true });
}

/**
 * The drawn state of every chart box on the page (`[data-chart]`): its size, how many drawn
 * marks (paths) its SVG holds, whether ECharts made it interactive, and its title.
 */
export const CHART_PROBE = `[...document.querySelectorAll('[data-chart]')].map((b) => {
  const r = b.getBoundingClientRect();
  const svg = b.querySelector('svg');
  return { width: r.width, height: r.height, marks: svg ? svg.querySelectorAll('path').length : 0, live: !!(window.echarts && window.echarts.getInstanceByDom(b)), title: b.getAttribute('aria-label') };
})`;
