/**
 * Screenshots an HTML page (a report, the dashboard) in headless Debian Chromium:
 *   npm run screenshot -- <file.html | http://127.0.0.1:port/> <out.png> [width] [height]
 * (the whole page unless a height is given).
 * Used for the images in docs/images/.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hasChromium, launchChromium } from './testing/chromium.js';

const [target, out, width = '1280', height] = process.argv.slice(2);
if (!target || !out) {
  console.error('usage: npm run screenshot -- <file.html | url> <out.png> [width] [height]');
  process.exit(2);
}
if (!hasChromium()) {
  console.error('screenshot: /usr/bin/chromium is missing (apt-get install chromium)');
  process.exit(1);
}
const browser = await launchChromium();
const page = await browser.newPage({
  viewport: { width: Number(width), height: height ? Number(height) : 900 },
});
await page.goto(/^https?:/.test(target) ? target : pathToFileURL(resolve(target)).href);
await page.waitForLoadState('load');
await page.screenshot({ path: out, fullPage: !height });
await browser.close();
console.log(`screenshot: ${out}`);
