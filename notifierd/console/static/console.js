// notifierd console: actions through the JSON API (with the page's CSRF token) and live
// updates. The pages carry all their data in HTML; this only acts and refreshes.
"use strict";

const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

// Call the JSON API as the signed-in person; throws an Error with the API's message, its
// text led by the HTTP status ("403 this token lacks the role ...") so a refusal says which.
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
    const why = data && (data.reason || data.error) || response.statusText;
    const error = new Error(`${response.status} ${why}`.trim());
    error.status = response.status;
    throw error;
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

// -- dead letters: select, retry, and follow each retried row to its new outcome ------------

const deadTable = document.querySelector("table[data-retry-table]");

function selectedRows() {
  return [...deadTable.querySelectorAll("tbody input[name=id]:checked")].map((box) => box.closest("tr"));
}

function showOutcome(row, status, detail) {
  const cell = row.querySelector(".outcome");
  cell.textContent = "";
  const badge = document.createElement("span");
  badge.className = `badge ${status}`;
  badge.textContent = status;
  cell.append(badge);
  if (detail) cell.append(` ${detail}`);
}

// A retried delivery's (or request's) outcome, read from its request until it is final.
async function follow(row, deadline) {
  const final = new Set(["delivered", "dry_run", "dead", "suppressed", "deduplicated", "digested"]);
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 700));
    let request;
    try {
      request = await api("GET", `/api/v1/requests/${encodeURIComponent(row.dataset.request)}`);
    } catch (error) {
      continue; // not recorded yet, or the store is busy: ask again
    }
    const mine = (request.deliveries || []).filter(
      (d) => !row.dataset.delivery || d.id === row.dataset.delivery);
    if (!mine.length) continue;
    const open = mine.filter((d) => !final.has(d.status));
    if (open.length) { showOutcome(row, open[0].status); continue; }
    const dead = mine.filter((d) => d.status === "dead");
    if (dead.length) showOutcome(row, "dead", `again: ${dead[0].error || ""}`);
    else showOutcome(row, mine[0].status);
    return;
  }
  showOutcome(row, "pending", "(still being retried; reload to see)");
}

async function retry(rows, all) {
  const ids = rows.map((row) => row.dataset.id);
  try {
    const done = await api("POST", "/api/v1/dead-letters/retry", all ? { all: true } : { ids });
    flash(`Requeued ${done.deliveries} deliveries and ${done.requests} requests.`);
  } catch (error) {
    flash(`Could not retry: ${error.message}`, true);
    return;
  }
  const deadline = Date.now() + 30000;
  for (const row of rows) {
    showOutcome(row, "pending", "requeued");
    row.querySelector("input[name=id]").checked = false;
    follow(row, deadline);
  }
}

if (deadTable) {
  const selectedButton = document.getElementById("retry-selected");
  const refresh = () => { selectedButton.disabled = selectedRows().length === 0; };
  deadTable.addEventListener("change", (event) => {
    if (event.target.id === "select-all") {
      for (const box of deadTable.querySelectorAll("tbody input[name=id]")) box.checked = event.target.checked;
    }
    refresh();
  });
  selectedButton.addEventListener("click", () => retry(selectedRows(), false));
  document.getElementById("retry-all").addEventListener("click", () => {
    retry([...deadTable.querySelectorAll("tbody tr[data-id]")], true);
  });
}

// -- silences and overrides: add through the API, end early --------------------------------

for (const form of document.querySelectorAll("form[data-runtime-form]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const kind = form.dataset.runtimeForm;
    const fields = Object.fromEntries(new FormData(form).entries());
    const body = { duration: fields.duration.trim(), reason: fields.reason.trim() };
    if (kind === "silence") {
      body.matchers = fields.matchers.split("\n").map((line) => line.trim()).filter(Boolean);
    } else {
      body.schedule = fields.schedule;
      body.person = fields.person;
      if (fields.from.trim()) body.from = fields.from.trim();
    }
    try {
      const added = await api("POST", kind === "silence" ? "/api/v1/silences" : "/api/v1/overrides", body);
      flash(`Added ${kind}:${added.id} until ${added.ends_at}.`);
      window.location.reload();
    } catch (error) {
      flash(`Could not add the ${kind}: ${error.message}`, true);
    }
  });
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-end][data-id]");
  if (!button) return;
  const { end, id } = button.dataset;
  const url = end === "silence" ? `/api/v1/silences/${id}/expire` : `/api/v1/overrides/${id}/remove`;
  button.disabled = true;
  try {
    await api("POST", url, {});
    flash(`Ended ${end}:${id}.`);
    window.location.reload();
  } catch (error) {
    flash(`Could not end ${end}:${id}: ${error.message}`, true);
    button.disabled = false;
  }
});
