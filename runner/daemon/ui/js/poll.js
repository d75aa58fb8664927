// Runs `fn` now and every `ms` while the tab is visible; the returned function stops it.
// A slow answer is never overlapped by the next request.
export function poll(fn, ms = 2000) {
  let timer = null;
  let stopped = false;
  const live = document.getElementById('live');
  async function tick() {
    timer = null;
    if (stopped) return;
    if (!document.hidden) {
      try {
        const more = await fn();
        if (live) live.textContent = 'live';
        if (more === false) return stop();
      } catch (e) {
        // Without a key every request would be refused again: wait for one (giving it
        // starts the view anew).
        if (e.status === 401) {
          stop();
          if (live) live.textContent = 'needs a key';
          return;
        }
        if (live) live.textContent = 'offline';
      }
    }
    if (!stopped) timer = setTimeout(tick, ms);
  }
  function stop() {
    stopped = true;
    if (timer) clearTimeout(timer);
    if (live) live.textContent = '';
  }
  tick();
  return stop;
}
