// notifierd console: actions through the JSON API (with the page's CSRF token) and live
// updates. The pages carry all their data in HTML; this only acts and refreshes.
"use strict";

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

// Call the JSON API as the signed-in person; throws an Error with the API's message.
async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
  if (!response.ok) {
    const why = data && (data.reason || data.error) || `HTTP ${response.status}`;
    throw new Error(why);
  }
  return data;
}

function flash(message, isError) {
  const box = document.getElementById("flash");
  if (!box) return;
  box.textContent = message;
  box.classList.toggle("error", Boolean(isError));
}

const ALERT_ACTIONS = { ack: "acknowledged", resolve: "resolved", escalate: "escalated" };

// Buttons with data-action="ack|resolve|escalate" and data-alert="ID".
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action][data-alert]");
  if (!button) return;
  const { action, alert } = button.dataset;
  button.disabled = true;
  try {
    await api("POST", `/api/v1/alerts/${encodeURIComponent(alert)}/${action}`, {});
    flash(`Alert ${alert} ${ALERT_ACTIONS[action] || action}.`);
    document.dispatchEvent(new CustomEvent("notifierd:changed", { detail: { alert } }));
  } catch (error) {
    flash(`Could not ${action} alert ${alert}: ${error.message}`, true);
  } finally {
    button.disabled = false;
  }
});

window.notifierd = { api, flash };
