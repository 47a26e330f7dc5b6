// A screenshot of a pack's page as a reader sees it after the script has run, optionally at a
// measure (its area's tab opened, the page scrolled to it), for the README.
// Usage: node screenshot.mjs <page.html> <out.png> <width> <height> [measure id]
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { open } from './cdp.mjs';

const [file, png, width, height, measure] = process.argv.slice(2);
const b = await open(pathToFileURL(file).href + (measure ? `#m-${measure}` : ''));
try {
  await b.call('Emulation.setDeviceMetricsOverride', {
    width: Number(width), height: Number(height), deviceScaleFactor: 1, mobile: false,
  });
  if (measure) {
    await b.evaluate(`document.getElementById('m-${measure}').scrollIntoView({block: 'start'})`);
  }
  await new Promise((r) => setTimeout(r, 500));
  const { data } = await b.call('Page.captureScreenshot', { format: 'png' });
  writeFileSync(png, Buffer.from(data, 'base64'));
} finally {
  await b.close();
}
