// Breather sandbox console. The server renders every message (escaped) and turns each action
// into the request Slack would send; this script only shows what it gets and reports clicks.
// No framework and nothing loaded from elsewhere: the console must work with no network.
"use strict";

const POLL_MS = 1000;
// This page's own id: a modal opened by a click here shows only here, never in another tab or
// in a later visit (as a Slack modal lives only in the client that opened it).
const PAGE = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
const state = {
  workspace: null,
  viewer: null, // key such as "agent:<id>" or "lead:<e-mail>"
  pane: "dm",
  version: null,
  view: null,
  modalTrigger: null,
  ephemerals: new Map(), // "<viewer>|<pane>" -> [{key, after, html}] (like Slack, never stored)
  read: new Map(), // "<viewer>|<pane>" -> message ts already seen
  polling: false,
  pollAgain: false,
  timer: null,
};

const rendered = new WeakMap(); // node -> the server markup it was made from
const $ = (id) => document.getElementById(id);

function fromHTML(html) {
  // Only for markup the server built and escaped.
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content.firstElementChild;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ as: state.viewer, page: PAGE, ...body }),
  };
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function announce(text) {
  $("panel-status").textContent = text;
}

function failed(error) {
  announce(state.workspace.strings.failed.replace("{error}", error.message));
}

// --- polling ----------------------------------------------------------------------------

async function poll() {
  clearTimeout(state.timer);
  if (state.polling) {
    state.pollAgain = true;
    return;
  }
  state.polling = true;
  const viewer = state.viewer;
  try {
    const after = state.version === null ? "" : `&after=${state.version}`;
    const data = await api(`/sandbox/api/view?as=${encodeURIComponent(viewer)}&page=${PAGE}${after}`);
    if (viewer === state.viewer && !data.unchanged) {
      state.version = data.version;
      state.view = data;
      render();
    }
  } catch (error) {
    failed(error);
  } finally {
    state.polling = false;
    if (state.pollAgain) {
      state.pollAgain = false;
      poll();
    } else {
      state.timer = setTimeout(poll, POLL_MS);
    }
  }
}

// --- rendering --------------------------------------------------------------------------

function render() {
  const view = state.view;
  if (!view.panes.some((pane) => pane.id === state.pane)) state.pane = "dm";
  renderPaneList(view.panes);
  renderPane(view.panes.find((pane) => pane.id === state.pane));
  renderControls(view);
  renderStatus(view);
  renderModal(view.modal);
}

// One line each: the agent's phone status (the demo's phone system), and why Breather held
// something back for them, when it did.
function renderStatus(view) {
  const phone = $("phone-status");
  phone.hidden = !view.phone;
  phone.textContent = view.phone ? view.phone.text : "";
  phone.classList.toggle("on-break", Boolean(view.phone && view.phone.on_break));
  const notice = $("notice");
  notice.hidden = !view.notice;
  notice.textContent = view.notice || "";
}

function renderPaneList(panes) {
  const list = $("pane-list");
  const wanted = panes.map((pane) => pane.id).join("|");
  if (list.dataset.panes !== wanted) {
    list.replaceChildren(...panes.map((pane) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.pane = pane.id;
      const title = document.createElement("span");
      title.textContent = pane.title;
      const count = document.createElement("span");
      count.className = "pane-count";
      button.append(title, count);
      item.append(button);
      return item;
    }));
    list.dataset.panes = wanted;
  }
  for (const pane of panes) {
    const button = list.querySelector(`button[data-pane="${CSS.escape(pane.id)}"]`);
    if (pane.id === state.pane) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
    if (pane.id === state.pane) markRead(pane);
    const count = button.querySelector(".pane-count");
    const unread = unreadIn(pane);
    const shown = document.createElement("span");
    shown.setAttribute("aria-hidden", "true");
    shown.textContent = String(unread);
    const spoken = document.createElement("span");
    spoken.className = "visually-hidden";
    spoken.textContent = ` ${state.workspace.strings.unread.replace("{count}", unread)}`;
    if (unread) count.replaceChildren(shown, spoken);
    else count.replaceChildren();
    count.hidden = !unread;
  }
}

// Like Slack's sidebar: how many messages arrived in a conversation since you last looked.
function readKey(pane) {
  return `${state.viewer}|${pane.id}`;
}

function markRead(pane) {
  const read = state.read.get(readKey(pane)) || new Set();
  for (const message of pane.messages || []) read.add(message.ts);
  state.read.set(readKey(pane), read);
}

function unreadIn(pane) {
  const read = state.read.get(readKey(pane)) || new Set();
  return (pane.messages || []).filter((message) => !read.has(message.ts)).length;
}

function paneItems(pane) {
  if (pane.kind === "home") {
    return pane.html ? [{ key: "home", html: pane.html }] : []; // one page, republished in place
  }
  const items = pane.messages.map((message) => ({ key: message.ts, html: message.html }));
  // A command's private reply stays after the message that was last when it was sent, and
  // after the replies sent before it: oldest first, as Slack shows them.
  for (const ephemeral of state.ephemerals.get(`${state.viewer}|${pane.id}`) || []) {
    let at = items.findIndex((item) => item.key === ephemeral.after) + 1;
    while (at < items.length && items[at].ephemeral) at += 1;
    items.splice(at, 0, ephemeral);
  }
  return items;
}

function renderPane(pane) {
  $("pane-title").textContent = pane.title;
  $("composer").hidden = pane.kind === "home";
  const container = $("pane");
  const items = paneItems(pane);
  const strings = state.workspace.strings;
  if (!items.length) {
    const text = pane.kind === "home" ? strings.empty_home : pane.kind === "dm" ? strings.empty_dm : strings.empty_channel;
    const empty = document.createElement("p");
    empty.className = "empty";
    empty.textContent = text;
    container.replaceChildren(empty);
    return;
  }
  container.querySelector(":scope > .empty")?.remove();
  const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
  reconcile(container, items);
  if (nearBottom) container.scrollTop = container.scrollHeight;
}

// Update only what changed, so a keyboard user's focus and a screen reader's place survive
// updates elsewhere; a replaced message keeps focus on the same button, or on itself.
function reconcile(container, items) {
  const existing = new Map();
  for (const child of container.children) if (child.dataset.key) existing.set(child.dataset.key, child);
  let previous = null;
  for (const item of items) {
    let node = existing.get(item.key);
    existing.delete(item.key);
    if (!node || rendered.get(node) !== item.html) {
      const fresh = fromHTML(item.html);
      fresh.dataset.key = item.key;
      rendered.set(fresh, item.html);
      if (node) {
        const focused = node.contains(document.activeElement) ? document.activeElement : null;
        node.replaceWith(fresh);
        if (focused) refocus(fresh, focused);
      }
      node = fresh;
    }
    const wanted = previous ? previous.nextElementSibling : container.firstElementChild;
    if (wanted !== node) container.insertBefore(node, wanted);
    previous = node;
  }
  for (const stale of existing.values()) stale.remove();
}

function refocus(fresh, focused) {
  const actionId = focused.dataset && focused.dataset.actionId;
  const same = actionId && fresh.querySelector(`[data-action-id="${CSS.escape(actionId)}"]`);
  if (same) same.focus();
  else {
    if (!fresh.hasAttribute("tabindex")) fresh.tabIndex = -1;
    fresh.focus();
  }
}

function renderControls(view) {
  for (const button of $("controls").querySelectorAll("button[data-control]")) {
    // aria-disabled rather than disabled: a button that has focus keeps it.
    button.setAttribute("aria-disabled", view.controls[button.dataset.control] ? "false" : "true");
  }
  $("simulator-state").textContent = view.simulator.available ? view.simulator.label : "";
}

// --- modals -----------------------------------------------------------------------------

function renderModal(modal) {
  const dialog = $("modal");
  if (!modal) {
    if (dialog.open) dialog.close();
    state.modalTrigger = null;
    return;
  }
  if (modal.trigger === state.modalTrigger) return;
  state.modalTrigger = modal.trigger;
  dialog.replaceChildren(fromHTML(modal.html));
  if (!dialog.open) dialog.showModal();
  const first = dialog.querySelector("input, textarea, select, button");
  if (first) first.focus();
}

function formValues(form) {
  const values = {};
  for (const field of form.querySelectorAll(".bk-input[data-block-id]")) {
    const blockId = field.dataset.blockId;
    const checked = field.querySelector("input[type=radio]:checked");
    const typed = field.querySelector("input[type=text], textarea, select"); // a menu's value too
    const value = checked ? checked.value : typed ? typed.value : "";
    if (value) values[blockId] = value;
  }
  return values;
}

function showErrors(form, errors) {
  let first = null;
  for (const field of form.querySelectorAll(".bk-input[data-block-id]")) {
    const message = errors[field.dataset.blockId];
    const slot = document.getElementById(`bk-error-${field.dataset.blockId}`);
    slot.textContent = message || "";
    slot.hidden = !message;
    for (const control of field.querySelectorAll("input, textarea, select")) {
      if (message) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    }
    if (message && !first) first = field.querySelector("input, textarea, select");
  }
  if (first) first.focus();
}

async function submitModal(event) {
  event.preventDefault();
  const form = event.target;
  if (!form.reportValidity()) return; // Slack, too, refuses to send a required field empty
  const trigger = state.modalTrigger;
  const problem = form.querySelector(".modal-problem");
  try {
    const result = await api("/sandbox/api/modal/submit", { trigger, values: formValues(form) });
    if (result.closed) {
      state.modalTrigger = null;
      $("modal").close();
      poll();
    } else if (result.replaced) {
      state.modalTrigger = null; // the next poll brings the new view into the same window
      poll();
    } else {
      showErrors(form, result.errors || {});
    }
  } catch (error) {
    problem.textContent = state.workspace.strings.failed.replace("{error}", error.message);
    problem.hidden = false;
  }
}

async function closeModal() {
  const trigger = state.modalTrigger;
  state.modalTrigger = null;
  if ($("modal").open) $("modal").close();
  if (trigger) await api("/sandbox/api/modal/close", { trigger }).catch(failed);
  poll();
}

// --- actions ----------------------------------------------------------------------------

async function clickBlockButton(button) {
  if (button.getAttribute("aria-busy") === "true") return;
  const holder = button.closest("[data-ts]");
  button.setAttribute("aria-busy", "true");
  try {
    await api("/sandbox/api/click", {
      ts: holder.dataset.ts,
      action_id: button.dataset.actionId,
      value: button.dataset.value || "",
      block_id: button.dataset.blockId || "",
    });
  } catch (error) {
    failed(error);
  } finally {
    button.removeAttribute("aria-busy");
    poll();
  }
}

async function runControl(button) {
  if (button.getAttribute("aria-disabled") === "true") return;
  try {
    const result = await api("/sandbox/api/control", { control: button.dataset.control, agent: $("panel-agent").value });
    announce(result.status);
  } catch (error) {
    failed(error);
  }
  poll();
}

async function showPane(id) {
  state.pane = id;
  if (state.view) render();
  if (id === "home") {
    // Slack tells the app each time someone opens its Home tab; Breather publishes the page then.
    await api("/sandbox/api/home", {}).catch(failed);
  }
  poll();
}

async function sendCommand(event) {
  event.preventDefault();
  const input = $("composer-input");
  const text = input.value.trim();
  if (!text) return;
  try {
    const result = await api("/sandbox/api/command", { text });
    input.value = "";
    addEphemeral(text, result.html);
  } catch (error) {
    failed(error);
  }
}

function addEphemeral(command, html) {
  if (!state.view) return;
  const key = `${state.viewer}|${state.pane}`;
  const pane = state.view.panes.find((candidate) => candidate.id === state.pane);
  const last = pane.messages && pane.messages.length ? pane.messages[pane.messages.length - 1].ts : null;
  const list = state.ephemerals.get(key) || [];
  const note = document.createElement("p");
  note.className = "msg-note";
  note.textContent = `${state.workspace.strings.only_you} · ${command}`;
  const body = `<article class="msg msg-ephemeral" tabindex="-1"><div class="msg-avatar" aria-hidden="true">B</div>` +
    `<div class="msg-main">${note.outerHTML}<div class="msg-blocks">${html}</div></div></article>`;
  list.push({ key: `ephemeral-${Date.now()}-${list.length}`, after: last, html: body, ephemeral: true });
  state.ephemerals.set(key, list);
  render();
}

// --- set-up -----------------------------------------------------------------------------

function chooseViewer(key) {
  if (state.modalTrigger && state.viewer) {
    // Switching person closes their open form, as leaving Slack's window would: it must not
    // pop up again when you switch back.
    api("/sandbox/api/modal/close", { trigger: state.modalTrigger }).catch(() => {});
  }
  state.viewer = key;
  state.version = null;
  state.pane = "dm";
  state.view = null;
  $("view-as").value = key;
  const url = new URL(window.location.href);
  url.searchParams.set("as", key);
  history.replaceState(null, "", url);
  const agent = key.startsWith("agent:") ? key.slice("agent:".length) : null;
  if (agent) $("panel-agent").value = agent;
  $("pane").replaceChildren();
  if ($("modal").open) $("modal").close();
  state.modalTrigger = null;
  poll();
}

function option(value, label) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = label;
  return element;
}

function buildControls(controls) {
  $("controls").replaceChildren(...controls.map((control) => {
    const wrapper = document.createElement("div");
    wrapper.className = "control";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "bk-button";
    button.dataset.control = control.id;
    button.textContent = control.label;
    button.setAttribute("aria-describedby", `help-${control.id}`);
    const help = document.createElement("p");
    help.className = "control-help";
    help.id = `help-${control.id}`;
    help.innerHTML = control.help_html; // formatted and escaped by the server
    wrapper.append(button, help);
    return wrapper;
  }));
}

async function start() {
  state.workspace = await api("/sandbox/api/workspace");
  const workspace = state.workspace;
  $("view-as").replaceChildren(...workspace.viewers.map((viewer) => option(viewer.key, viewer.label)));
  $("panel-agent").replaceChildren(...workspace.agents.map((agent) => option(agent.id, agent.name)));
  buildControls(workspace.controls);

  $("view-as").addEventListener("change", (event) => chooseViewer(event.target.value));
  $("controls").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-control]");
    if (button) runControl(button);
  });
  $("pane-list").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-pane]");
    if (button) showPane(button.dataset.pane);
  });
  $("pane").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action-id]");
    if (button) clickBlockButton(button);
  });
  $("composer").addEventListener("submit", sendCommand);
  $("modal").addEventListener("submit", submitModal);
  $("modal").addEventListener("click", (event) => {
    if (event.target.closest("[data-modal-close]")) closeModal();
  });
  $("modal").addEventListener("cancel", (event) => {
    event.preventDefault(); // Escape: close through the server, so the form is forgotten there too
    closeModal();
  });

  const wanted = new URL(window.location.href).searchParams.get("as");
  const known = workspace.viewers.some((viewer) => viewer.key === wanted);
  chooseViewer(known ? wanted : workspace.viewers[0].key);
}

document.addEventListener("DOMContentLoaded", () => {
  start().catch((error) => {
    $("panel-status").textContent = error.message;
  });
});
