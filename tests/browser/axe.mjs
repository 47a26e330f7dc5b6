// The WCAG 2.2 AA check of a pack's HTML page: axe-core run in headless Chromium, on the page as
// it opens and again after the interactions a reader makes (another area's tab, a period
// chosen, the similar areas and the children opened), since the script changes what is shown.
// Usage: node axe.mjs <page.html>...   Exit status 1 and every violation printed if any.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { open } from './cdp.mjs';

const require = createRequire(import.meta.url);
const axe = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
let failed = 0;

async function audit(b, file, state) {
  const result = await b.evaluate(`axe.run(document, {runOnly: {type: 'tag', values: ${JSON.stringify(TAGS)}}})
    .then(r => ({violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary)})), passes: r.passes.length}))`);
  for (const v of result.violations) {
    failed++;
    console.log(`VIOLATION ${file} (${state}): ${v.id} [${v.impact}] ${v.help}`);
    v.nodes.forEach((n) => console.log(`    ${n}`));
  }
  console.log(`${file} (${state}): ${result.violations.length} violations, ${result.passes} rules passed`);
}

for (const file of process.argv.slice(2)) {
  const b = await open(pathToFileURL(file).href);
  try {
    await b.evaluate(axe);
    await audit(b, file, 'as opened');
    const tabs = await b.evaluate(`Array.from(document.querySelectorAll('[role=tab]')).map(t => t.id)`);
    if (tabs.length > 1) await b.click(`#${tabs[1]}`);
    const kinds = await b.evaluate(`Array.from(document.querySelectorAll('#period-type option')).map(o => o.textContent)`);
    if (kinds.length > 1) await b.choose('#period-type', kinds[1]);
    await b.evaluate(`document.querySelectorAll('main > section:not([hidden]) details').forEach(d => { d.open = true; })`);
    await new Promise((r) => setTimeout(r, 300));
    await audit(b, file, 'after a tab, a period and the details opened');
    if (b.errors.length) {
      failed++;
      console.log(`SCRIPT ERRORS ${file}: ${b.errors.join('; ')}`);
    }
  } finally {
    await b.close();
  }
}
process.exit(failed ? 1 : 0);
