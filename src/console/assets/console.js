// The console's only script (served from /console/assets/, allowed by the CSP's script-src 'self').
// Pages work without it; it adds: the one-tap sign-in link posts its token, an open dashboard refreshes
// its figures in place, the campaign form's task rows move, appear and go in place (without it, the same
// buttons send the form back with the change made), the unit picker ticks a subtree or a block at once,
// and a form shown with errors puts the focus on their list.
'use strict';

// The sign-in link carries its token after '#', which never leaves the browser: post it from here.
function signInWithLink() {
  const form = document.querySelector('[data-link-sign-in]');
  const field = document.getElementById('link-token');
  if (!form || !field) return;
  const token = window.location.hash.slice(1);
  if (!token) return;
  field.value = token;
  window.history.replaceState(null, '', window.location.pathname);
  form.submit();
}

// Asks every few seconds whether the figures changed (204: no), and swaps them in when they did. A
// hidden tab does not ask; a session that ended sends the page back to the sign-in.
function refreshLiveFigures() {
  const live = document.getElementById('live');
  if (!live) return;
  const every = Number(live.dataset.refreshMs) || 2000;
  let busy = false;
  const poll = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const url = new URL(live.dataset.liveSrc, window.location.href);
      url.searchParams.set('v', live.dataset.version || '');
      const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
      if (response.status === 200) {
        live.innerHTML = await response.text();
        live.dataset.version = response.headers.get('x-version') || '';
      } else if (response.status === 401 || response.status === 403 || response.status === 404) {
        window.location.reload();
      }
    } catch {
      // Offline for a moment: the next tick tries again.
    } finally {
      busy = false;
    }
  };
  window.setInterval(poll, every);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void poll();
  });
}

// The campaign form's task rows: "Lên", "Xuống", "Xóa" and "Thêm nhiệm vụ" act on the page itself. Rows
// are posted in page order (repeated field names), so moving a row is moving its element; the legends and
// the buttons' names are numbered again, the focus stays on the button pressed, and a live region says
// what happened.
function editTaskRows() {
  const list = document.querySelector('[data-task-rows]');
  const template = document.getElementById('task-row-template');
  if (!list || !template) return;
  const form = list.closest('form');
  const status = form.querySelector('[data-task-status]');
  const say = (pattern, n) => {
    if (status) status.textContent = (pattern || '').replace('{n}', String(n));
  };
  let nextId = list.querySelectorAll('[data-task-row]').length;
  const rows = () => Array.from(list.querySelectorAll(':scope > [data-task-row]'));
  const renumber = () => {
    rows().forEach((row, index) => {
      const n = index + 1;
      row.querySelector('[data-task-legend]').textContent = list.dataset.legend.replace('{n}', String(n));
      for (const button of row.querySelectorAll('[data-task-op]')) {
        const op = button.dataset.taskOp;
        button.value = `${op}:${index}`;
        const label = list.dataset[`label${op.charAt(0).toUpperCase()}${op.slice(1)}`];
        if (label) button.setAttribute('aria-label', label.replace('{n}', String(n)));
      }
    });
  };
  const nextKey = () => {
    const used = new Set(rows().map((row) => row.querySelector('input[name="taskKey"]').value.trim()));
    if (!used.has(`NV${rows().length + 1}`)) return `NV${rows().length + 1}`;
    let n = 1;
    while (used.has(`NV${n}`)) n += 1;
    return `NV${n}`;
  };
  form.addEventListener('click', (event) => {
    const button = event.target.closest('[data-task-op]');
    if (!button || !form.contains(button)) return;
    event.preventDefault();
    const op = button.dataset.taskOp;
    if (op === 'add') {
      const id = `n${nextId++}`;
      const key = nextKey();
      const html = template.innerHTML.replaceAll('__i__', id).replaceAll('__n__', String(rows().length + 1));
      list.insertAdjacentHTML('beforeend', html);
      const row = rows().at(-1);
      row.querySelector('input[name="taskKey"]').value = key;
      renumber();
      row.querySelector('input[name="taskTitle"]').focus();
      say(list.dataset.added, rows().length);
      return;
    }
    const row = button.closest('[data-task-row]');
    if (op === 'remove') {
      const after = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      renumber();
      (after
        ? after.querySelector('input[name="taskTitle"]')
        : form.querySelector('[data-task-op="add"]')
      ).focus();
      say(list.dataset.removed, 0);
      return;
    }
    const sibling = op === 'up' ? row.previousElementSibling : row.nextElementSibling;
    if (!sibling) return;
    if (op === 'up') list.insertBefore(row, sibling);
    else list.insertBefore(sibling, row);
    renumber();
    button.focus();
    say(list.dataset.moved, rows().indexOf(row) + 1);
  });
}

// The unit picker: a subtree's box ticks (or unticks) every unit below it; a block's box every unit of
// the block; unticking a unit unticks the boxes that claimed all of it, so what is sent is what is shown.
function pickUnits() {
  const picker = document.querySelector('.units-pick');
  if (!picker) return;
  picker.addEventListener('change', (event) => {
    const box = event.target;
    if (!box.matches('input[type="checkbox"]')) return;
    if (box.hasAttribute('data-subtree')) {
      const below = box.closest('li').querySelector(':scope > ul');
      if (below)
        for (const inner of below.querySelectorAll('input[type="checkbox"]')) inner.checked = box.checked;
    } else if (box.hasAttribute('data-block')) {
      for (const unit of picker.querySelectorAll('[data-unit]'))
        if (unit.dataset.blocks.split(' ').includes(box.value)) unit.checked = box.checked;
    }
    if (box.checked) return;
    for (
      let item = box.closest('li')?.parentElement?.closest('li');
      item;
      item = item.parentElement?.closest('li')
    ) {
      const subtree = item.querySelector(':scope > .pick [data-subtree]');
      if (subtree) subtree.checked = false;
    }
    if (box.hasAttribute('data-unit'))
      for (const block of picker.querySelectorAll('[data-block]'))
        if (box.dataset.blocks.split(' ').includes(block.value)) block.checked = false;
  });
}

// A form shown again with errors: the list of them takes the focus, so a screen reader reads it first.
function focusErrors() {
  const summary = document.querySelector('[data-error-summary]');
  if (summary) summary.focus();
}

signInWithLink();
refreshLiveFigures();
editTaskRows();
pickUnits();
focusErrors();
