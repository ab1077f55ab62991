/* mtbench output viewer: renders the JSON in #mtbench-viewer-data into #mtbench-viewer.
   Vanilla JS, no network. Every piece of data goes into the page through textContent
   (never innerHTML), so outputs with HTML in them show as text. Only one page of
   segments is in the DOM at a time; filters and sorts work on index arrays. */
(function () {
  'use strict';
  var root = document.getElementById('mtbench-viewer');
  var dataEl = document.getElementById('mtbench-viewer-data');
  if (!root || !dataEl) return;
  decode(dataEl.textContent).then(main, function (err) {
    root.dataset.ready = 'error';
    root.textContent = 'The output viewer could not read its data (' + err + '); open the report in a current browser.';
  });

  // The payload is gzip, base64-encoded (a third of the JSON's size): the browser's own
  // DecompressionStream inflates it, with no library and no network.
  function decode(text) {
    var bin = atob(text.trim());
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).text().then(JSON.parse);
  }

  function main(DATA) {
  var METRICS = DATA.metrics || [];
  var SCORED = METRICS.filter(function (m) { return !m.failure; });
  var FAILURES = METRICS.filter(function (m) { return m.failure; });
  var DIRS = DATA.directions || [];
  var ANY = '*';  // "any failure" / "any shown system" in the filter selects
  var REF = '@ref';  // the reference as the second side of the word diff
  var DIFF_CELLS = 250000;  // tokens(a) x tokens(b) above which a pair is not diffed (keeps paging instant)
  var fmt = new Intl.NumberFormat('en-US');

  var state = {dir: 0, shown: null, sortKind: 'id', sortA: '', sortB: '', sortMetric: SCORED.length ? SCORED[0].name : '',
               desc: false, flag: '', flagSystem: ANY, query: '', diffA: '', diffB: '', page: 0, pageSize: 50};
  var dir = null;  // the current direction with its lookups (see loadDirection)
  var order = [];  // segment ids after filter and sort
  var renders = 0;

  // --- small DOM helpers -----------------------------------------------------------------
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'className') e.className = attrs[k];
      else if (k === 'title') e.title = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function option(value, text) { var o = el('option', null, text); o.value = value; return o; }
  function labelled(text, control) { var l = el('label', {className: 'mtv-ctl'}, text + ' '); l.appendChild(control); return l; }
  function fillSelect(sel, items, keep) {  // items: [value, text]; keeps the value when still offered
    var old = keep !== undefined ? keep : sel.value;
    sel.replaceChildren.apply(sel, items.map(function (it) { return option(it[0], it[1]); }));
    var values = items.map(function (it) { return it[0]; });
    sel.value = values.indexOf(old) >= 0 ? old : (values.length ? values[0] : '');
    return sel.value;
  }
  function number(v) {
    if (v === null || v === undefined) return '–';
    return v === 0 || Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(2);  // 0-1 raw scores keep two digits
  }
  function metricInfo(name) { return METRICS.filter(function (m) { return m.name === name; })[0]; }

  // --- the current direction ------------------------------------------------------------
  function loadDirection(i) {
    var d = DIRS[i] || {systems: [], source: [], reference: []};
    var systems = d.systems || [];
    var byName = {};
    systems.forEach(function (s) {
      var sets = {};
      FAILURES.forEach(function (m) {
        var ids = (s.flags && s.flags[m.name]) || [], notes = (s.notes && s.notes[m.name]) || [];
        var map = new Map();
        ids.forEach(function (id, j) { map.set(id, notes[j] || ''); });
        sets[m.name] = map;
      });
      byName[s.name] = {sys: s, flags: sets, lower: null};
    });
    var n = (d.source || []).length;
    systems.forEach(function (s) { n = Math.max(n, (s.outputs || []).length); });
    dir = {d: d, systems: systems, byName: byName, n: n, srcLower: null, refLower: null};
  }
  function shownSystems() {
    return dir.systems.filter(function (s) { return state.shown.has(s.name); });
  }
  function defaultShown() {
    var mine = dir.systems.filter(function (s) { return s.under_test; });
    var others = dir.systems.filter(function (s) { return !s.under_test; }).slice(0, 3);
    return new Set(mine.concat(others).map(function (s) { return s.name; }));
  }
  function lowered(arr) { return (arr || []).map(function (t) { return String(t).toLowerCase(); }); }
  function score(name, metric, id) {
    var e = dir.byName[name];
    var col = e && e.sys.scores ? e.sys.scores[metric] : null;
    var v = col ? col[id] : null;
    return v === null || v === undefined ? NaN : v;
  }
  function flagged(name, metric, id) {
    var e = dir.byName[name];
    if (!e) return false;
    if (metric === ANY) return FAILURES.some(function (m) { return e.flags[m.name].has(id); });
    return !!e.flags[metric] && e.flags[metric].has(id);
  }

  // --- filter and sort ------------------------------------------------------------------
  function compute() {
    var shown = shownSystems().map(function (s) { return s.name; });
    var q = state.query.trim().toLowerCase();
    if (q) {
      if (!dir.srcLower) { dir.srcLower = lowered(dir.d.source); dir.refLower = lowered(dir.d.reference); }
      shown.forEach(function (n) { var e = dir.byName[n]; if (!e.lower) e.lower = lowered(e.sys.outputs); });
    }
    var flagSystems = state.flagSystem === ANY ? shown : [state.flagSystem];
    var ids = [];
    for (var i = 0; i < dir.n; i++) {
      if (state.flag && !flagSystems.some(function (n) { return flagged(n, state.flag, i); })) continue;
      if (q && !((dir.srcLower[i] || '').indexOf(q) >= 0 || (dir.refLower[i] || '').indexOf(q) >= 0 ||
                 shown.some(function (n) { return (dir.byName[n].lower[i] || '').indexOf(q) >= 0; }))) continue;
      ids.push(i);
    }
    var key = null;
    if (state.sortKind === 'score' && state.sortA && state.sortMetric) {
      key = new Float64Array(dir.n);
      for (var a = 0; a < dir.n; a++) key[a] = score(state.sortA, state.sortMetric, a);
    } else if (state.sortKind === 'diff' && state.sortA && state.sortB && state.sortMetric) {
      key = new Float64Array(dir.n);
      for (var b = 0; b < dir.n; b++) key[b] = score(state.sortA, state.sortMetric, b) - score(state.sortB, state.sortMetric, b);
    }
    if (key) {
      var sign = state.desc ? -1 : 1;
      ids.sort(function (x, y) {  // missing scores last whatever the order; ties by segment id
        var kx = key[x], ky = key[y];
        if (isNaN(kx) || isNaN(ky)) return isNaN(kx) === isNaN(ky) ? x - y : (isNaN(kx) ? 1 : -1);
        return kx === ky ? x - y : sign * (kx - ky);
      });
    } else if (state.desc) {
      ids.reverse();
    }
    order = ids;
  }

  // --- word diff (LCS over whitespace-separated tokens) -----------------------------------
  function tokens(text) { return String(text || '').split(/(\s+)/).filter(function (t) { return t.length; }); }
  function diffMarks(a, b) {
    // which non-space tokens of a and of b lie outside one longest common subsequence
    var wa = [], wb = [], i, j;
    a.forEach(function (t, k) { if (!/^\s+$/.test(t)) wa.push(k); });
    b.forEach(function (t, k) { if (!/^\s+$/.test(t)) wb.push(k); });
    var n = wa.length, m = wb.length;
    if (n * m > DIFF_CELLS) return null;
    var w = m + 1, L = new Uint32Array((n + 1) * w);
    for (i = n - 1; i >= 0; i--) for (j = m - 1; j >= 0; j--)
      L[i * w + j] = a[wa[i]] === b[wb[j]] ? L[(i + 1) * w + j + 1] + 1 : Math.max(L[(i + 1) * w + j], L[i * w + j + 1]);
    var ma = new Set(wa), mb = new Set(wb);  // start with every word marked, unmark the common ones
    i = 0; j = 0;
    while (i < n && j < m) {
      if (a[wa[i]] === b[wb[j]]) { ma.delete(wa[i]); mb.delete(wb[j]); i++; j++; }
      else if (L[(i + 1) * w + j] >= L[i * w + j + 1]) i++;
      else j++;
    }
    return [ma, mb];
  }
  function textCell(text, marks, toks, cls) {
    var td = el('td', {className: 'mtv-text'});
    if (!marks) { td.textContent = text; return td; }
    toks.forEach(function (t, k) {
      if (marks.has(k)) td.appendChild(el('mark', {className: cls}, t));
      else td.appendChild(document.createTextNode(t));
    });
    return td;
  }

  // --- rendering ------------------------------------------------------------------------
  var ui = {};
  function build() {
    var bar = el('div', {className: 'mtv-controls'});
    ui.direction = el('select', {id: 'mtv-direction'});
    DIRS.forEach(function (d, i) {
      var n = (d.systems || []).length;
      ui.direction.appendChild(option(String(i), d.task + ' (' + n + ' system' + (n === 1 ? '' : 's') + ')'));
    });
    bar.appendChild(labelled('direction', ui.direction));
    ui.pageSize = el('select', {id: 'mtv-page-size'});
    [25, 50, 100, 200].forEach(function (s) { ui.pageSize.appendChild(option(String(s), String(s))); });
    ui.pageSize.value = String(state.pageSize);
    bar.appendChild(labelled('segments per page', ui.pageSize));
    root.appendChild(bar);

    ui.systems = el('fieldset', {className: 'mtv-systems', id: 'mtv-systems'});
    root.appendChild(ui.systems);

    var sort = el('div', {className: 'mtv-controls'});
    ui.sortKind = el('select', {id: 'mtv-sort-kind'});
    [['id', 'line in the test set'], ['score', 'score of A'], ['diff', 'difference A − B']].forEach(function (o) {
      ui.sortKind.appendChild(option(o[0], o[1]));
    });
    ui.sortMetric = el('select', {id: 'mtv-sort-metric'});
    fillSelect(ui.sortMetric, SCORED.map(function (m) { return [m.name, m.label]; }), state.sortMetric);
    ui.sortA = el('select', {id: 'mtv-sort-a'});
    ui.sortB = el('select', {id: 'mtv-sort-b'});
    ui.order = el('select', {id: 'mtv-sort-order'});
    [['asc', 'ascending'], ['desc', 'descending']].forEach(function (o) { ui.order.appendChild(option(o[0], o[1])); });
    sort.appendChild(labelled('sort by', ui.sortKind));
    sort.appendChild(labelled('metric', ui.sortMetric));
    sort.appendChild(labelled('A', ui.sortA));
    sort.appendChild(labelled('B', ui.sortB));
    sort.appendChild(labelled('order', ui.order));
    root.appendChild(sort);

    var filt = el('div', {className: 'mtv-controls'});
    ui.flag = el('select', {id: 'mtv-flag'});
    var flagItems = [['', FAILURES.length ? 'all segments' : 'all segments (no failure metric in this report)']];
    FAILURES.forEach(function (m) { flagItems.push([m.name, 'only where flagged ' + m.name]); });
    if (FAILURES.length > 1) flagItems.push([ANY, 'only where flagged with any failure']);
    fillSelect(ui.flag, flagItems, '');
    ui.flagSystem = el('select', {id: 'mtv-flag-system'});
    ui.search = el('input', {id: 'mtv-search', type: 'search', placeholder: 'text in source, reference or shown outputs'});
    filt.appendChild(labelled('show', ui.flag));
    filt.appendChild(labelled('in system', ui.flagSystem));
    filt.appendChild(labelled('search', ui.search));
    root.appendChild(filt);

    var dif = el('div', {className: 'mtv-controls'});
    ui.diffA = el('select', {id: 'mtv-diff-a'});
    ui.diffB = el('select', {id: 'mtv-diff-b'});
    dif.appendChild(labelled('word diff: highlight words of', ui.diffA));
    dif.appendChild(labelled('that are not in', ui.diffB));
    dif.appendChild(el('span', {className: 'mtv-note'}, '(and the other way round; longest common subsequence of words)'));
    root.appendChild(dif);

    ui.legend = el('div', {className: 'mtv-note', id: 'mtv-legend'});
    root.appendChild(ui.legend);
    var pager = el('div', {className: 'mtv-pager'});
    ui.prev = el('button', {id: 'mtv-prev', type: 'button'}, '‹ previous');
    ui.next = el('button', {id: 'mtv-next', type: 'button'}, 'next ›');
    ui.count = el('span', {id: 'mtv-count', className: 'mtv-count'});
    pager.appendChild(ui.prev); pager.appendChild(ui.next); pager.appendChild(ui.count);
    root.appendChild(pager);
    ui.empty = el('div', {className: 'mtv-empty', id: 'mtv-empty'});
    root.appendChild(ui.empty);
    ui.table = el('table', {className: 'mtv-table', id: 'mtv-table'});
    root.appendChild(ui.table);

    ui.direction.addEventListener('change', function () { setDirection(+ui.direction.value); });
    ui.pageSize.addEventListener('change', function () { state.pageSize = +ui.pageSize.value; state.page = 0; render(); });
    [ui.sortKind, ui.sortMetric, ui.sortA, ui.sortB, ui.order].forEach(function (s) {
      s.addEventListener('change', function () {
        state.sortKind = ui.sortKind.value; state.sortMetric = ui.sortMetric.value; state.sortA = ui.sortA.value;
        state.sortB = ui.sortB.value; state.desc = ui.order.value === 'desc'; refresh();
      });
    });
    [ui.flag, ui.flagSystem].forEach(function (s) {
      s.addEventListener('change', function () { state.flag = ui.flag.value; state.flagSystem = ui.flagSystem.value; refresh(); });
    });
    var timer = null;  // debounced: one filter pass when typing pauses, not one per key
    ui.search.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () { state.query = ui.search.value; refresh(); }, 200);
    });
    [ui.diffA, ui.diffB].forEach(function (s) {
      s.addEventListener('change', function () { state.diffA = ui.diffA.value; state.diffB = ui.diffB.value; render(); });
    });
    ui.prev.addEventListener('click', function () { if (state.page > 0) { state.page--; render(); } });
    ui.next.addEventListener('click', function () {
      if ((state.page + 1) * state.pageSize < order.length) { state.page++; render(); }
    });
  }

  function setDirection(i) {
    var keep = state.shown;
    state.dir = i;
    loadDirection(i);
    var names = dir.systems.map(function (s) { return s.name; });
    // keep the user's choice of systems across directions where they have outputs
    var kept = keep ? new Set(names.filter(function (n) { return keep.has(n); })) : null;
    state.shown = kept && kept.size ? kept : defaultShown();
    ui.systems.replaceChildren(el('legend', null, 'systems shown (▸ = under test)'));
    if (!dir.systems.length) ui.systems.appendChild(el('span', {className: 'mtv-note'}, 'no system has outputs in this direction'));
    dir.systems.forEach(function (s) {
      var box = el('input', {type: 'checkbox', 'data-system': s.name});
      box.checked = state.shown.has(s.name);
      box.addEventListener('change', function () {
        if (box.checked) state.shown.add(s.name); else state.shown.delete(s.name);
        systemChoices(); refresh();
      });
      var lab = el('label', {className: s.under_test ? 'mtv-sys mtv-mine' : 'mtv-sys',
                             title: s.under_test ? 'system under test' : 'reference system of the data layout'});
      lab.appendChild(box);
      lab.appendChild(document.createTextNode(' ' + (s.under_test ? '▸ ' : '') + s.name));
      ui.systems.appendChild(lab);
    });
    systemChoices();
    refresh();
  }

  function systemChoices() {
    // the selects that name systems offer the shown ones; defaults: A = first shown (under test first), B = the next
    var shown = shownSystems().map(function (s) { return [s.name, (dir.byName[s.name].sys.under_test ? '▸ ' : '') + s.name]; });
    state.sortA = fillSelect(ui.sortA, shown, state.sortA);
    state.sortB = fillSelect(ui.sortB, shown, state.sortB && state.sortB !== state.sortA ? state.sortB
                                              : (shown[1] || shown[0] || [''])[0]);
    state.flagSystem = fillSelect(ui.flagSystem, [[ANY, 'any shown system']].concat(shown), state.flagSystem);
    state.diffA = fillSelect(ui.diffA, [['', 'no word diff']].concat(shown), state.diffA || (shown[0] || [''])[0]);
    var refText = 'the reference' + (dir.d.ref_id ? ' (' + dir.d.ref_id + ')' : '');
    state.diffB = fillSelect(ui.diffB, [[REF, refText]].concat(shown), state.diffB || (shown[1] || [REF])[0]);
  }

  function refresh() {
    var t0 = performance.now();
    state.page = 0; compute(); render();
    root.dataset.lastRefreshMs = (performance.now() - t0).toFixed(1);  // filter + sort + one page, for the benchmark
  }

  function sortPhrase() {
    var m = metricInfo(state.sortMetric);
    if (state.sortKind === 'score' && m && state.sortA) {
      return 'sorted by ' + m.label + ' of ' + state.sortA + ', ' + (state.desc ? 'highest' : 'lowest') + ' first';
    }
    if (state.sortKind === 'diff' && m && state.sortA && state.sortB) {
      return 'sorted by ' + m.name + '(' + state.sortA + ') − ' + m.name + '(' + state.sortB + '), ' +
             (state.desc ? 'largest' : 'smallest') + ' first (' + m.label + ')';
    }
    return 'in test-set order' + (state.desc ? ', last line first' : '');
  }
  function filterPhrase() {
    var parts = [];
    if (state.flag) {
      parts.push((state.flag === ANY ? 'any failure' : state.flag) + ' in ' +
                 (state.flagSystem === ANY ? 'any shown system' : state.flagSystem));
    }
    if (state.query.trim()) parts.push('text “' + state.query.trim() + '”');
    return parts.length ? parts.join('; ') : 'none';
  }

  function header(shown) {
    var tr = el('tr');
    tr.appendChild(el('th', {title: 'line number in the test set (1 = first line of src.txt)'}, 'line'));
    tr.appendChild(el('th', null, 'text of'));
    tr.appendChild(el('th', {className: 'mtv-textcol'}, 'text'));
    SCORED.forEach(function (m) {
      var sorted = state.sortKind === 'score' && state.sortMetric === m.name;
      var th = el('th', {className: 'mtv-sortable' + (sorted ? (state.desc ? ' sorted-desc' : ' sorted-asc') : ''),
                         'data-metric': m.name,
                         title: 'segment-level ' + m.heading + '; click: sort by the score of A (' + (state.sortA || '–') + ')'},
                  m.label);
      th.addEventListener('click', function () {
        if (!shown.length) return;
        var again = state.sortKind === 'score' && state.sortMetric === m.name;
        // first click: worst segments first (a reviewer looks for problems); the next click flips
        state.desc = again ? !state.desc : !m.higher;
        state.sortKind = 'score'; state.sortMetric = m.name;
        ui.sortKind.value = 'score'; ui.sortMetric.value = m.name; ui.order.value = state.desc ? 'desc' : 'asc';
        refresh();
      });
      tr.appendChild(th);
    });
    var names = FAILURES.map(function (m) { return m.name; });
    if (FAILURES.length) {
      tr.appendChild(el('th', {title: 'metrics that flag a failure per segment: ' + names.join(', ')},
                        names.length <= 2 ? 'flagged: ' + names.join(', ') : 'failure flags (' + names.length + ' metrics)'));
    }
    // a group row over the score columns: these are per-segment scores, not the leaderboard's corpus scores
    var group = el('tr', {className: 'mtv-group'});
    group.appendChild(el('th', {colspan: '3'}));
    if (SCORED.length) group.appendChild(el('th', {colspan: String(SCORED.length), className: 'mtv-groupnum'}, 'segment scores'));
    if (FAILURES.length) group.appendChild(el('th'));
    var thead = el('thead');
    thead.appendChild(group);
    thead.appendChild(tr);
    return thead;
  }

  function render() {
    var shown = shownSystems();
    var total = order.length, start = state.page * state.pageSize;
    var ids = order.slice(start, start + state.pageSize);
    var end = start + ids.length;
    ui.count.textContent = 'showing ' + (ids.length ? fmt.format(start + 1) + '–' + fmt.format(end) : '0') + ' of ' +
      fmt.format(total) + ' segments (' + (total !== dir.n ? 'of ' + fmt.format(dir.n) + ' in this direction; ' : '') +
      'filter: ' + filterPhrase() + ') · ' + sortPhrase();
    ui.prev.disabled = state.page === 0;
    // controls that do not apply to the current choice are greyed out, not hidden
    ui.sortMetric.disabled = ui.sortA.disabled = state.sortKind === 'id' || !SCORED.length;
    ui.sortB.disabled = state.sortKind !== 'diff';
    ui.flagSystem.disabled = !state.flag;
    ui.diffB.disabled = !state.diffA;
    ui.next.disabled = end >= total;
    var d = dir.d;
    ui.legend.textContent = d.task ? (d.task + ': ' + fmt.format(d.segments || dir.n) + ' of ' +
      fmt.format(d.in_test_set || dir.n) + ' segments scored' + (d.systems_note ? '; ' + d.systems_note : '') +
      '. Scores are each metric\'s segment-level score on the ' +
      'leaderboard\'s scale' + (FAILURES.length ? '; failure flags mark segments a failure metric flagged' : '') +
      '. Highlighted words: not in the other side of the word diff.') : '';
    ui.empty.textContent = !dir.systems.length ? 'No system has outputs in this direction.'
      : (!shown.length ? 'No system is chosen: tick one above.' : '');
    var parts = [header(shown)];
    var refName = 'reference' + (d.ref_id ? ' ' + d.ref_id : '');
    var diffA = state.diffA && state.shown.has(state.diffA) ? state.diffA : '';
    var diffB = state.diffB === REF || state.shown.has(state.diffB) ? state.diffB : '';
    var fill = SCORED.length + (FAILURES.length ? 1 : 0);  // score and flag columns, empty in source/ref rows
    ids.forEach(function (id) {
      var body = el('tbody', {className: 'mtv-seg', 'data-seg': String(id)});
      var rows = [];
      var texts = {};
      shown.forEach(function (s) { texts[s.name] = (s.outputs || [])[id]; });
      var ref = (d.reference || [])[id];
      var marks = {};
      if (diffA && diffB && diffA !== diffB) {
        var ta = tokens(texts[diffA]), tb = tokens(diffB === REF ? ref : texts[diffB]);
        var dm = diffMarks(ta, tb);
        if (dm) { marks[diffA] = [dm[0], ta]; marks[diffB] = [dm[1], tb]; }
      }
      function plainRow(label, text, cls, key) {
        var tr = el('tr', {className: cls});
        tr.appendChild(el('th', {className: 'mtv-label', scope: 'row'}, label));
        var mk = marks[key];
        tr.appendChild(mk ? textCell(text, mk[0], mk[1], 'mtv-diff') : textCell(text === undefined ? '' : text));
        if (fill) tr.appendChild(el('td', {className: 'mtv-fill', colspan: String(fill)}));
        return tr;
      }
      rows.push(plainRow('source (' + (d.src || '?') + ')', (d.source || [])[id], 'mtv-src', null));
      if (d.reference && d.reference.length) rows.push(plainRow(refName, ref, 'mtv-ref', REF));
      shown.forEach(function (s) {
        var e = dir.byName[s.name];
        var tr = el('tr', {className: 'mtv-out' + (s.under_test ? ' mtv-mine' : ''), 'data-system': s.name});
        tr.appendChild(el('th', {className: 'mtv-label', scope: 'row', title: s.under_test ? 'system under test' : ''},
                          (s.under_test ? '▸ ' : '') + s.name));
        var text = texts[s.name];
        var mk = marks[s.name];
        tr.appendChild(mk ? textCell(text, mk[0], mk[1], 'mtv-diff')
                          : textCell(text === undefined ? '(no output)' : text));
        SCORED.forEach(function (m) {
          var v = score(s.name, m.name, id);
          tr.appendChild(el('td', {className: 'mtv-num', 'data-metric': m.name,
                                   title: m.label + ' of ' + s.name + ' on line ' + (id + 1)}, number(isNaN(v) ? null : v)));
        });
        if (FAILURES.length) {
          var td = el('td', {className: 'mtv-flags'});
          FAILURES.forEach(function (m) {
            var map = e.flags[m.name];
            if (map.has(id)) {
              var note = map.get(id);
              td.appendChild(el('span', {className: 'mtv-flag', 'data-metric': m.name,
                                         title: m.name + ' flagged this output' + (note ? ': ' + note : '')}, m.name));
              // what the metric recorded (off-target: the language it saw) lets a reader judge the flag
              if (note) td.appendChild(el('span', {className: 'mtv-flagnote'}, note));
            }
          });
          tr.appendChild(td);
        }
        rows.push(tr);
      });
      var num = el('td', {className: 'mtv-id', rowspan: String(rows.length)}, id + 1);
      rows[0].insertBefore(num, rows[0].firstChild);
      rows.forEach(function (r) { body.appendChild(r); });
      parts.push(body);
    });
    ui.table.replaceChildren.apply(ui.table, parts);
    renders++;
    root.dataset.renders = String(renders);
    root.dataset.rows = String(ids.length);
  }

  build();
  if (DIRS.length) setDirection(0);
  // first rows painted: the frame after this one has been drawn
  requestAnimationFrame(function () {
    setTimeout(function () {
      root.dataset.firstRenderMs = performance.now().toFixed(1);
      root.dataset.ready = 'true';
    }, 0);
  });
  }
})();
