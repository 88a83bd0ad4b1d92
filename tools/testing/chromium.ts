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

/** The drawn state of every `svg.chart` on the page: its size and how many marks it holds. */
export const CHART_PROBE = `[...document.querySelectorAll('svg.chart')].map((s) => {
  const r = s.getBoundingClientRect();
  return { width: r.width, height: r.height, marks: s.querySelectorAll('path.line, rect.bar, circle, polygon.band').length, title: s.getAttribute('aria-label') };
})`;
