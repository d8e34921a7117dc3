// The console's only script: served from /static, no inline code (the CSP forbids it).
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()},
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let data;
  try { data = JSON.parse(text); } catch (e) { data = {error: text}; }
  if (!response.ok && !data.error) data.error = response.status + " " + response.statusText;
  return data;
}

function wireTabs(root) {
  root.querySelectorAll("[data-tab]").forEach((button) => {
    button.addEventListener("click", () => {
      root.querySelectorAll("[data-tab]").forEach((b) => b.classList.toggle("on", b === button));
      root.querySelectorAll(".panel").forEach((p) => { p.hidden = p.id !== button.dataset.tab; });
    });
  });
}

// -- Commands ----------------------------------------------------------------------------------

function wireSearch() {
  const box = document.getElementById("command-search");
  if (!box) return;
  box.addEventListener("input", () => {
    const words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    document.querySelectorAll(".command-list li").forEach((li) => {
      li.hidden = !words.every((w) => li.dataset.search.includes(w));
    });
    document.querySelectorAll(".command-list .group").forEach((g) => {
      g.hidden = !g.querySelector("li:not([hidden])");
    });
  });
}

const pad = (n) => String(n).padStart(2, "0");

function pickerToText(value) {
  // "2024-04-15T01:00" -> "04/15/2024 01:00 AM", the reference's format.
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  if (!m) return "";
  let hour = Number(m[4]);
  const half = hour < 12 ? "AM" : "PM";
  hour = hour % 12 === 0 ? 12 : hour % 12;
  return `${m[2]}/${m[3]}/${m[1]} ${pad(hour)}:${m[5]} ${half}`;
}

function wireShownWhen(form) {
  const fields = form.querySelectorAll("[data-shown-when]");
  const update = () => fields.forEach((field) => {
    const other = form.querySelector(`[name="${field.dataset.shownWhen}"]`);
    const values = field.dataset.shownValues.split(",");
    field.classList.toggle("inapplicable", !!other && other.value !== "" && !values.includes(other.value));
  });
  form.addEventListener("change", update);
  update();
}

function wireCommandForm() {
  const form = document.getElementById("command-form");
  if (!form) return;
  wireShownWhen(form);
  form.querySelectorAll("input.picker").forEach((picker) => {
    picker.addEventListener("change", () => {
      document.getElementById(picker.dataset.for).value = pickerToText(picker.value);
    });
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.querySelectorAll(".field-error").forEach((e) => { e.textContent = ""; });
    form.querySelectorAll(".field").forEach((f) => f.classList.remove("invalid"));
    document.getElementById("form-error").textContent = "";
    const inputs = {};
    form.querySelectorAll(".field [name]").forEach((el) => {
      if (el.value.trim() !== "") inputs[el.name] = el.value;
    });
    const result = document.getElementById("result");
    const button = document.getElementById("run");
    button.disabled = true;
    result.classList.add("running");
    try {
      const data = await post("/api/run", {
        command: form.dataset.command,
        connection: document.getElementById("connection").value,
        inputs,
      });
      if (data.error) {
        document.getElementById("form-error").textContent = data.error;
        return;
      }
      if (data.field) {
        const slot = document.getElementById("err-" + data.field);
        slot.textContent = data.message;
        slot.closest(".field").classList.add("invalid");
        result.innerHTML = "";
        return;
      }
      result.innerHTML = data.html;
      wireTabs(result);
    } finally {
      button.disabled = false;
      result.classList.remove("running");
    }
  });
}

// -- Connections -------------------------------------------------------------------------------

function wireConnections() {
  document.querySelectorAll("button.test-connection").forEach((button) => {
    button.addEventListener("click", async () => {
      const out = button.parentElement.querySelector(".readiness-result");
      button.disabled = true;
      out.textContent = "Testing…";
      try {
        const data = await post("/api/test-connection", {connection: button.dataset.connection});
        if (data.error) out.textContent = data.error; else out.innerHTML = data.html;
      } finally {
        button.disabled = false;
      }
    });
  });
}

// -- Field-mapping playground ------------------------------------------------------------------

function wirePlayground() {
  const root = document.getElementById("playground");
  if (!root) return;
  const overrides = {};
  const source = document.getElementById("source");
  const doc = document.getElementById("document");
  const entry = (id) => (overrides[id] = overrides[id] || {add: [], remove: []});
  const plain = () => {
    const out = {};
    for (const [id, change] of Object.entries(overrides)) {
      const kept = {};
      if (change.add.length) kept.add = change.add;
      if (change.remove.length) kept.remove = change.remove;
      if (Object.keys(kept).length) out[id] = kept;
    }
    return out;
  };

  async function remap() {
    const error = document.getElementById("map-error");
    error.textContent = "";
    if (!doc.value.trim()) { error.textContent = "Paste a response or fetch a page first."; return; }
    const data = await post("/api/map", {document: doc.value, source: source.value, overrides: plain()});
    if (data.error) { error.textContent = data.error; return; }
    document.getElementById("mapping").innerHTML = data.html;
    document.getElementById("overrides-yaml").textContent = data.overrides;
    document.querySelectorAll("#mapping .remove-field").forEach((button) => {
      button.addEventListener("click", () => {
        const change = entry(button.dataset.source);
        if (button.dataset.custom === "true") {
          change.add = change.add.filter((f) => f.name !== button.dataset.name);
        } else if (!change.remove.includes(button.dataset.name)) {
          change.remove.push(button.dataset.name);
        }
        remap();
      });
    });
  }

  document.getElementById("map").addEventListener("click", remap);
  source.addEventListener("change", () => { if (doc.value.trim()) remap(); });

  const name = document.getElementById("new-name");
  const shown = document.getElementById("new-system-name");
  name.addEventListener("input", async () => {
    // The System Name rule lives in the mapping engine: ask it rather than repeat it here.
    const typed = name.value.trim();
    if (!typed) { shown.textContent = ""; return; }
    const response = await fetch("/api/system-name?name=" + encodeURIComponent(typed),
                                 {credentials: "same-origin"});
    const data = await response.json();
    if (name.value.trim() === typed) shown.textContent = data.system_name;
  });
  document.getElementById("add-field").addEventListener("click", () => {
    const path = document.getElementById("new-path");
    if (!name.value.trim() || !path.value.trim()) {
      document.getElementById("map-error").textContent = "A new field needs a Field Name and a JSON path.";
      return;
    }
    entry(source.value).add.push({name: name.value.trim(), path: path.value.trim()});
    name.value = ""; path.value = ""; shown.textContent = "";
    remap();
  });

  document.getElementById("fetch-page").addEventListener("click", async () => {
    const error = document.getElementById("fetch-error");
    error.textContent = "Fetching…";
    const data = await post("/api/fetch-page", {
      source: source.value, connection: document.getElementById("connection").value,
    });
    if (data.error) { error.textContent = data.error; return; }
    error.textContent = "";
    doc.value = data.document;
    remap();
  });

  document.getElementById("download").addEventListener("click", async () => {
    const response = await fetch("/api/overrides-file", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()},
      body: JSON.stringify({overrides: plain()}),
    });
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = "mappings.yaml";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
}

// -- Job dashboard -----------------------------------------------------------------------------

function wireDashboard() {
  const board = document.getElementById("dashboard");
  if (!board || !board.dataset.refreshMs) return;
  const every = Math.max(Number(board.dataset.refreshMs), 500);
  const reload = async () => {
    try {
      const response = await fetch("/jobs", {credentials: "same-origin"});
      if (response.ok) {
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        const replacement = fresh.getElementById("dashboard");
        if (replacement) board.replaceChildren(...replacement.childNodes);
      }
    } finally {
      setTimeout(reload, every);
    }
  };
  setTimeout(reload, every);
}

document.addEventListener("DOMContentLoaded", () => {
  wireSearch();
  wireDashboard();
  wireCommandForm();
  wireConnections();
  wirePlayground();
});
