// cspi's pack page: tabs per area, an index with search, a period selector, sortable tables,
// tooltips and the children behind each figure. Plain JavaScript with no library and no
// network: the page must open from an email or a shared drive. It never works a figure out;
// every value and sentence it shows is text the engine wrote into the data block.
(function () {
  'use strict';
  var root = document.documentElement;
  root.classList.remove('no-js');
  root.classList.add('js');
  var data = JSON.parse(document.getElementById('cspi-data').textContent);
  var main = document.getElementById('main');
  var panels = Array.prototype.slice.call(main.querySelectorAll(':scope > section'));
  var tabs = [];
  var ROW_LIMIT = 500;

  // Tabs: one per area (WAI-ARIA tabs pattern: arrows move between tabs, Tab enters the panel).
  function selectTab(i, focus) {
    tabs.forEach(function (t, j) {
      var on = i === j;
      t.setAttribute('aria-selected', on ? 'true' : 'false');
      t.tabIndex = on ? 0 : -1;
      panels[j].hidden = !on;
    });
    if (focus) tabs[i].focus();
  }
  if (panels.length > 1) {
    var list = document.createElement('div');
    list.setAttribute('role', 'tablist');
    list.setAttribute('aria-label', 'Areas');
    panels.forEach(function (panel, i) {
      var heading = panel.querySelector('h2');
      var tab = document.createElement('button');
      tab.type = 'button';
      tab.id = 'tab-' + panel.id;
      tab.setAttribute('role', 'tab');
      tab.setAttribute('aria-controls', panel.id);
      tab.textContent = heading ? heading.textContent : panel.id;
      tab.addEventListener('click', function () { selectTab(i, false); });
      tab.addEventListener('keydown', function (e) {
        var n = tabs.length, to = null;
        if (e.key === 'ArrowRight') to = (i + 1) % n;
        else if (e.key === 'ArrowLeft') to = (i + n - 1) % n;
        else if (e.key === 'Home') to = 0;
        else if (e.key === 'End') to = n - 1;
        if (to !== null) { e.preventDefault(); selectTab(to, true); }
      });
      panel.setAttribute('role', 'tabpanel');
      panel.setAttribute('aria-labelledby', tab.id);
      panel.tabIndex = 0;
      tabs.push(tab);
      list.appendChild(tab);
    });
    main.parentNode.insertBefore(list, main);
    selectTab(0, false);
  }

  // Going to a measure (index link or #m-id in the address) opens its area's tab first.
  function reveal(id) {
    var target = document.getElementById(id);
    if (!target) return;
    var panel = target.closest('main > section');
    var i = panels.indexOf(panel);
    if (i >= 0 && tabs.length) selectTab(i, false);
    target.scrollIntoView();
    var h = target.querySelector('h3, h4');
    if (h) { h.tabIndex = -1; h.focus(); }
  }
  document.querySelectorAll('#index-list a').forEach(function (a) {
    a.addEventListener('click', function (e) {
      e.preventDefault();
      var id = a.getAttribute('href').slice(1);
      history.replaceState(null, '', '#' + id);
      reveal(id);
    });
  });
  if (location.hash.length > 1) reveal(location.hash.slice(1));

  // The index's search: every word typed must be in the measure's title or area.
  var search = document.getElementById('index-search');
  var count = document.getElementById('index-count');
  var items = Array.prototype.slice.call(document.querySelectorAll('#index-list li'));
  var indexDetails = document.getElementById('index-details');
  // Closed once the page runs: the tabs lead, the index is a click (or a search) away.
  indexDetails.open = false;
  search.addEventListener('input', function () {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    if (words.length) indexDetails.open = true;
    var shown = 0;
    items.forEach(function (li) {
      var text = li.textContent.toLowerCase();
      var hit = words.every(function (w) { return text.indexOf(w) >= 0; });
      li.hidden = !hit;
      if (hit) shown++;
    });
    count.textContent = words.length ? shown + ' of ' + items.length + ' measures' : '';
  });

  // The period selector: a period type, then the period ending; "latest" is each measure's own.
  var form = document.getElementById('period-form');
  var typeSelect = document.getElementById('period-type');
  var endSelect = document.getElementById('period-end');
  var status = document.getElementById('period-status');
  data.choices.forEach(function (c) {
    var o = document.createElement('option');
    o.value = c.kind;
    o.textContent = c.label;
    typeSelect.appendChild(o);
  });
  form.hidden = false;
  form.addEventListener('submit', function (e) { e.preventDefault(); });
  function choice(kind) {
    return data.choices.filter(function (c) { return c.kind === kind; })[0];
  }
  function fillEnds() {
    endSelect.textContent = '';
    var c = choice(typeSelect.value);
    endSelect.disabled = !c;
    if (!c) return;
    c.ends.forEach(function (e) {
      var o = document.createElement('option');
      o.value = e[0];
      o.textContent = e[1];
      endSelect.appendChild(o);
    });
  }
  function current(id) {
    var m = data.measures[id];
    if (!typeSelect.value) return m.headline;
    return endSelect.value;
  }
  function apply() {
    var shown = 0, all = 0;
    document.querySelectorAll('article[data-indicator]').forEach(function (card) {
      var id = card.getAttribute('data-indicator');
      var m = data.measures[id];
      if (!m) return;
      all++;
      var key = current(id);
      var f = key ? m.figures[key] : null;
      if (f) shown++;
      fillCard(card, m, f, key);
    });
    var c = choice(typeSelect.value);
    status.textContent = c
      ? c.label + ', ' + endSelect.options[endSelect.selectedIndex].textContent + ': ' +
        shown + ' of ' + all + ' measures have a figure for this period.'
      : 'Each measure at its latest period.';
  }
  typeSelect.addEventListener('change', function () { fillEnds(); apply(); });
  endSelect.addEventListener('change', apply);

  function fillCard(card, m, f, key) {
    card.setAttribute('data-state', f ? 'shown' : 'none');
    card.setAttribute('data-period', key || '');
    var period = endSelect.disabled ? '' : endSelect.options[endSelect.selectedIndex].textContent;
    var blank = {
      value: 'x', unit: '', period: period, sn: 'x', region: 'x', england: 'x', rank: 'x',
      reading: 'No figure for this period: this measure is counted over other periods.',
      tip: 'No figure for this period.', rag: 'none'
    };
    var g = f || blank;
    card.querySelectorAll('[data-f]').forEach(function (el) {
      el.textContent = g[el.getAttribute('data-f')];
    });
    var value = card.querySelector('.value');
    if (value) value.className = 'value rag-' + g.rag;
    var bench = f && f.bench ? f.bench : null;
    var values = bench ? (m.neighbours.values[bench] || {}) : {};
    var means = bench ? (m.neighbours.means[bench] || {}) : {};
    card.querySelectorAll('table[data-model]').forEach(function (table) {
      table.querySelectorAll('tbody tr').forEach(function (tr) {
        var la = tr.getAttribute('data-la');
        var cell = tr.querySelector('td');
        var v = la === 'self' ? [g.value, f ? f.sort : null] : (values[la] || ['x', null]);
        cell.textContent = v[0];
        cell.setAttribute('data-sort', v[1] === null || v[1] === undefined ? '' : v[1]);
      });
      var mean = table.querySelector('[data-mean]');
      if (mean) mean.textContent = (means[mean.getAttribute('data-mean')] || ['x'])[0];
      resort(table);
    });
    var kids = card.querySelector('details[data-children]');
    if (kids && kids.open) fillChildren(kids);
  }

  // Sortable tables: a header's button sorts by its column, again to reverse; hidden and
  // missing values ("c", "x") always last.
  function resort(table) {
    var th = table.querySelector('th[aria-sort=ascending], th[aria-sort=descending]');
    if (th) sortBy(table, th, th.getAttribute('aria-sort'));
  }
  function sortBy(table, th, order) {
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    table.querySelectorAll('thead th').forEach(function (h) { h.setAttribute('aria-sort', 'none'); });
    th.setAttribute('aria-sort', order);
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var sign = order === 'ascending' ? 1 : -1;
    rows.sort(function (a, b) {
      var x = a.cells[col], y = b.cells[col];
      if (x.hasAttribute('data-sort')) {
        var p = x.getAttribute('data-sort'), q = y.getAttribute('data-sort');
        if (p === '' || q === '') return (p === '') - (q === '');
        return sign * (parseFloat(p) - parseFloat(q));
      }
      return sign * x.textContent.localeCompare(y.textContent);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll('table.sortable thead th').forEach(function (th) {
    var button = th.querySelector('button');
    if (!button) return;
    button.addEventListener('click', function () {
      var order = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
      sortBy(th.closest('table'), th, order);
    });
  });

  // Tooltips (WCAG 1.4.13): shown on hover or focus, stay while the pointer is over them,
  // dismissed with Escape.
  document.querySelectorAll('.tip').forEach(function (tip) {
    var holder = tip.parentNode;
    function on() { holder.classList.add('tip-on'); }
    function off() { holder.classList.remove('tip-on'); }
    tip.addEventListener('mouseenter', on);
    tip.addEventListener('focus', on);
    tip.addEventListener('blur', off);
    holder.addEventListener('mouseleave', off);
    tip.addEventListener('keydown', function (e) { if (e.key === 'Escape') off(); });
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') {
      document.querySelectorAll('.tip-on').forEach(function (h) { h.classList.remove('tip-on'); });
    }
  });

  // The children behind a figure (packs allowed child-level data only): the rows of the
  // figure's period, filtered by every word typed, at most ROW_LIMIT drawn at once.
  function fillChildren(details) {
    var id = details.getAttribute('data-children');
    var m = data.measures[id];
    var card = details.closest('article');
    var key = card.getAttribute('data-period') || m.headline;
    var box = details.querySelector('.children-table');
    var say = details.querySelector('.children-status');
    var filter = details.querySelector('input[type=search]');
    box.textContent = '';
    var c = m.children;
    var at = c ? c.periods[key] : undefined;
    if (at === undefined) {
      say.textContent = 'The children are listed for the latest period of each type (as in the ' +
        'workbook); there is no list for this period.';
      return;
    }
    var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    var rows = c.sets[at].filter(function (r) {
      var text = r.join(' ').toLowerCase();
      return words.every(function (w) { return text.indexOf(w) >= 0; });
    });
    var table = document.createElement('table');
    var caption = table.createCaption();
    caption.textContent = 'Children behind the figure (child-level)';
    var head = table.createTHead().insertRow();
    c.columns.forEach(function (name) {
      var th = document.createElement('th');
      th.scope = 'col';
      th.textContent = name;
      head.appendChild(th);
    });
    var body = table.createTBody();
    rows.slice(0, ROW_LIMIT).forEach(function (r) {
      var tr = body.insertRow();
      r.forEach(function (v) { tr.insertCell().textContent = v; });
    });
    box.appendChild(table);
    say.textContent = rows.length + ' of ' + c.sets[at].length + ' children' +
      (words.length ? ' match the filter' : '') +
      (rows.length > ROW_LIMIT ? '; the first ' + ROW_LIMIT + ' are shown: narrow the filter' : '') + '.';
  }
  document.querySelectorAll('details[data-children]').forEach(function (details) {
    details.addEventListener('toggle', function () { if (details.open) fillChildren(details); });
    var filter = details.querySelector('input[type=search]');
    filter.addEventListener('input', function () { fillChildren(details); });
  });

  apply();
})();
