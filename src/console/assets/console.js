// The console's only script (served from /console/assets/, allowed by the CSP's script-src 'self').
// Pages work without it; it adds two things: the one-tap sign-in link posts its token, and an open
// dashboard refreshes its figures in place.
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

signInWithLink();
refreshLiveFigures();
