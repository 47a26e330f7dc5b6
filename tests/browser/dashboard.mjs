// Drives a pack's HTML page in headless Chromium with real mouse and keyboard input and checks
// what the page shows after each step. Usage: node dashboard.mjs <page.html> performance|public
import { pathToFileURL } from 'node:url';
import { open, check } from './cdp.mjs';

const [file, audience] = process.argv.slice(2);
const b = await open(pathToFileURL(file).href);
const js = (e) => b.evaluate(e);
const visible = (sel) => js(`(() => { const e = document.querySelector(${JSON.stringify(sel)});
  return !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'; })()`);
/** Waits (up to 5 s) until the expression is true in the page: events run after input. */
async function until(expression) {
  for (let i = 0; i < 100; i++) {
    if (await js(expression)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
const data = await js(`JSON.parse(document.getElementById('cspi-data').textContent)`);

try {
  // Tabs: one per area, the first open; a click opens another, arrows move between them.
  const tabs = await js(`Array.from(document.querySelectorAll('[role=tab]')).map(t => t.textContent)`);
  const panels = await js(`Array.from(document.querySelectorAll('main > section')).map(s => s.id)`);
  check(tabs.length === panels.length && tabs.length >= 4, `a tab per area: ${tabs.join(' | ')}`);
  check(await visible(`#${panels[0]}`) && !(await visible(`#${panels[1]}`)), 'the first area open, the others closed');
  await b.click(`#tab-${panels[1]}`);
  check(await visible(`#${panels[1]}`) && !(await visible(`#${panels[0]}`)), `clicking "${tabs[1]}" opens its area`);
  check(await js(`document.getElementById('tab-${panels[1]}').getAttribute('aria-selected')`) === 'true', 'the clicked tab is selected');
  await b.press('ArrowRight');
  check(await visible(`#${panels[2]}`) && await js(`document.activeElement.id`) === `tab-${panels[2]}`, 'the right arrow moves to the next tab');
  await b.press('Home');
  check(await visible(`#${panels[0]}`), 'Home goes back to the first tab');

  // The index: search narrows it; a link opens the measure's area and goes to it.
  const total = await js(`document.querySelectorAll('#index-list li').length`);
  await b.click('#index-search');
  await b.type('care leavers');
  const left = await js(`Array.from(document.querySelectorAll('#index-list li')).filter(l => !l.hidden).map(l => l.textContent)`);
  check(left.length > 0 && left.length < total && left.every((t) => t.toLowerCase().includes('care leavers')),
    `searching "care leavers" leaves ${left.length} of ${total} measures, each about care leavers`);
  check((await js(`document.getElementById('index-count').textContent`)) === `${left.length} of ${total} measures`, 'the search says how many it found');
  const link = await js(`Array.from(document.querySelectorAll('#index-list li')).find(l => !l.hidden).querySelector('a').getAttribute('href')`);
  await b.click(`#index-list a[href="${link}"]`);
  const area = await js(`document.querySelector('${link}').closest('main > section').id`);
  check(await visible(link) && await visible(`#${area}`), `the index link ${link} opens its area (${area}) and shows the measure`);

  // The period selector: rolling 12 months, an earlier month; each measure shows the engine's
  // figure for that month (or says it has none).
  const rolling = data.choices.find((c) => c.kind === 'rolling_12m');
  check(!!rolling && rolling.ends.length >= 12, `rolling 12 months offered month by month (${rolling?.ends.length})`);
  await b.choose('#period-type', 'Rolling 12 months');
  const month = rolling.ends[Math.min(6, rolling.ends.length - 1)];
  await b.choose('#period-end', month[1]);
  const cards = await js(`Array.from(document.querySelectorAll('article[data-indicator]')).map(a => ({
      id: a.dataset.indicator, period: a.dataset.period, state: a.dataset.state,
      value: a.querySelector('[data-f=value]').textContent, when: a.querySelector('[data-f=period]').textContent,
      reading: a.querySelector('[data-f=reading]').textContent }))`);
  let moved = 0;
  for (const c of cards) {
    const f = data.measures[c.id].figures[month[0]];
    if (f) {
      check(c.state === 'shown' && c.value === f.value && c.when === f.period && c.reading === f.reading,
        `${c.id} shows its ${f.period} figure ${f.value}`);
      moved++;
    } else {
      check(c.state === 'none' && c.value === 'x', `${c.id} says it has no figure for ${month[1]}`);
    }
  }
  check(moved > 0, `${moved} measures moved to ${month[1]}`);
  check((await js(`document.getElementById('period-status').textContent`)).includes(`${moved} of ${cards.length} measures`), 'the selector says how many measures have the period');
  await b.choose('#period-type', "Latest: each measure's own");
  const back = await js(`Array.from(document.querySelectorAll('article[data-indicator]')).every(a => a.dataset.period === (JSON.parse(document.getElementById('cspi-data').textContent).measures[a.dataset.indicator].headline || ''))`);
  check(back, 'choosing "Latest" puts every measure back on its headline');

  // A sortable comparison: the neighbour models side by side; a click sorts by value.
  // The measure whose neighbours' headline values differ most, so the order shows.
  const spread = (id) => {
    const m = data.measures[id];
    const f = m.headline && m.figures[m.headline];
    const values = f && f.bench ? Object.values(m.neighbours.values[f.bench] || {}).map((v) => v[1]) : [];
    return new Set(values.filter((v) => v !== null)).size;
  };
  const card = cards.reduce((best, c) => (spread(c.id) > spread(best.id) ? c : best), cards[0]);
  check(spread(card.id) > 2, `${card.id}: neighbours with ${spread(card.id)} different values`);
  const tables = await js(`document.querySelectorAll('#m-${card.id} table[data-model]').length`);
  check(tables >= 2, `${card.id}: ${tables} neighbour models side by side`);
  await b.click(`#tab-${await js(`document.querySelector('#m-${card.id}').closest('main > section').id`)}`);
  await b.click(`#m-${card.id} details.models summary`);
  const table = `#m-${card.id} table[data-model]`;
  await b.click(`${table} th:nth-child(2) button`);
  const sorted = async () => js(`Array.from(document.querySelector('${table}').tBodies[0].rows).map(r => r.cells[1].dataset.sort)`);
  const up = (await sorted()).filter((v) => v !== '').map(Number);
  check(up.every((v, i) => i === 0 || up[i - 1] <= v) && up.length > 1, `a click sorts the areas by value, lowest first (${up.join(', ')})`);
  check(await js(`document.querySelector('${table} th:nth-child(2)').getAttribute('aria-sort')`) === 'ascending', 'the sorted column says so (aria-sort)');
  await b.click(`${table} th:nth-child(2) button`);
  const down = (await sorted()).filter((v) => v !== '').map(Number);
  check(down.every((v, i) => i === 0 || down[i - 1] >= v), 'a second click sorts highest first');

  // A tooltip with the value and its interval: on focus, and Escape dismisses it.
  await b.click(`#m-${card.id} .tip`);
  check(await visible(`#tip-${card.id}`), 'focusing a figure shows its tooltip');
  const tip = await js(`document.getElementById('tip-${card.id}').textContent`);
  check(tip === data.measures[card.id].figures[data.measures[card.id].headline].tip, `the tooltip gives the figure in full: "${tip}"`);
  await b.press('Escape');
  check(!(await visible(`#tip-${card.id}`)), 'Escape dismisses the tooltip');

  // The children behind a figure: only in the performance team's pack.
  const drill = await js(`document.querySelectorAll('details[data-children]').length`);
  if (audience === 'public') {
    check(drill === 0, 'no drill-down in a public pack');
    check(Object.values(data.measures).every((m) => m.children === undefined), 'no child in the page data');
  } else {
    const id = Object.keys(data.measures).find((k) => {
      const c = data.measures[k].children; const h = data.measures[k].headline;
      return c && h && c.periods[h] !== undefined && c.sets[c.periods[h]].length > 1;
    });
    check(!!id, `a measure with children behind its headline (${id})`);
    await b.click(`#tab-${await js(`document.querySelector('#m-${id}').closest('main > section').id`)}`);
    await b.click(`#m-${id} details[data-children] summary`);
    const m = data.measures[id];
    const rows = m.children.sets[m.children.periods[m.headline]];
    await until(`document.querySelectorAll('#m-${id} .children-table tbody tr').length > 0`);
    const shownRows = await js(`document.querySelectorAll('#m-${id} .children-table tbody tr').length`);
    check(shownRows === Math.min(rows.length, 500), `opening the drill-down lists the ${rows.length} children`);
    const child = rows[0][0];
    await b.click(`#filter-${id}`);
    await b.type(child);
    await until(`Array.from(document.querySelectorAll('#m-${id} .children-table tbody tr')).every(r => r.cells[0].textContent.includes(${JSON.stringify(child)}))`);
    const filtered = await js(`Array.from(document.querySelectorAll('#m-${id} .children-table tbody tr')).map(r => r.cells[0].textContent)`);
    check(filtered.length >= 1 && filtered.every((c) => c.includes(child)), `filtering by ${child} leaves ${filtered.length} row(s), each that child`);
    check((await js(`document.querySelector('#m-${id} .children-status').textContent`)).startsWith(`${filtered.length} of ${rows.length}`), 'the drill-down says how many match');
  }
  check(b.errors.length === 0, `no script errors (${b.errors.join('; ')})`);
} finally {
  await b.close();
}
