// PAKN Gateway console: the little JS the pages use. Every page works without it; with it, the
// Overview refreshes by itself, "select all" ticks every row, and risky forms ask first.
"use strict";

function refreshLive(box) {
  const url = box.dataset.refreshUrl;
  const seconds = Math.max(5, parseInt(box.dataset.refreshSeconds || "10", 10));
  let busy = false;
  async function tick() {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (response.redirected || response.status === 401 || response.status === 303) {
        window.location.reload(); // the session ended: the page sends us to the login
        return;
      }
      if (response.ok) {
        box.innerHTML = await response.text();
        box.dataset.refreshedAt = new Date().toISOString();
        box.classList.remove("stale");
      } else {
        box.classList.add("stale");
      }
    } catch (err) {
      box.classList.add("stale"); // the gateway is unreachable: keep what we have, try again
    } finally {
      busy = false;
    }
  }
  window.setInterval(tick, seconds * 1000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) tick(); });
}

function selectAll(master) {
  const form = master.closest("form");
  if (!form) return;
  master.addEventListener("change", () => {
    form.querySelectorAll("input[type=checkbox][name=ids]").forEach((box) => { box.checked = master.checked; });
  });
}

function confirmSubmit(form) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-refresh-url]").forEach(refreshLive);
  document.querySelectorAll("input[data-select-all]").forEach(selectAll);
  document.querySelectorAll("form[data-confirm]").forEach(confirmSubmit);
});
