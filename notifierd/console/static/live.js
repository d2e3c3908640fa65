// notifierd console: live updates. The server sends each changed alert's row (the same markup
// as the page's, rendered by the server) over GET /ui/events; this puts it in place.
"use strict";

(function () {
  const table = document.querySelector('table[data-live="alerts"]');
  const sections = document.querySelectorAll("[data-live-alert]");
  if (!table && sections.length === 0) return;  // nothing on this page follows alerts
  if (!("EventSource" in window)) return;  // the page still shows its data; reload to refresh

  const rowSelector = (id) => `tr[data-alert-id="${CSS.escape(id)}"]`;

  // A row (or section) replaced while a keyboard user sits on one of its controls would drop
  // their focus to the page's start, and their Enter on the floor: focus the same control in
  // the new markup (the same action, or the same link), else its first control that is left.
  function keepFocus(focused, fresh) {
    const action = focused.dataset.action;
    const href = focused.getAttribute("href");
    const same =
      (action && fresh.querySelector(`[data-action="${CSS.escape(action)}"]`)) ||
      (href && fresh.querySelector(`a[href="${CSS.escape(href)}"]`)) ||
      fresh.querySelector("button, a[href]");
    same?.focus();
  }

  function placeRow(alert) {
    const body = table.tBodies[0] || table.createTBody();
    const holder = document.createElement("tbody");
    holder.innerHTML = alert.html;  // rendered and escaped by the server's template
    const row = holder.querySelector("tr");
    if (!row) return;
    const old = body.querySelector(rowSelector(alert.id));
    if (old) {
      const focused = old.contains(document.activeElement) ? document.activeElement : null;
      old.replaceWith(row);
      if (focused) keepFocus(focused, row);
    } else {
      body.querySelector("tr.empty")?.remove();
      body.prepend(row);  // a new alert: newest first
    }
  }

  // An alert's own page: one client, one alert, so fetching its page fragment is cheap.
  async function refreshSection(section) {
    const response = await fetch(window.location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const id = section.dataset.liveAlert;
    const fresh = page.querySelector(`[data-live-alert="${CSS.escape(id)}"]`);
    if (!fresh) return;
    const focused = section.contains(document.activeElement) ? document.activeElement : null;
    const replacement = document.importNode(fresh, true);
    section.replaceWith(replacement);
    if (focused) keepFocus(focused, replacement);
  }

  const source = new EventSource("/ui/events");
  source.addEventListener("alert", (message) => {
    let alert;
    try { alert = JSON.parse(message.data); } catch (e) { return; }
    if (table) placeRow(alert);
    document.querySelectorAll(`[data-live-alert="${CSS.escape(alert.id)}"]`).forEach((s) => {
      refreshSection(s).catch(() => {});
    });
  });
  // Re-rendered rows keep their buttons working: console.js listens on the document.
  window.addEventListener("pagehide", () => source.close());
})();
