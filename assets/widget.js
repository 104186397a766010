// frontdesk help widget. On any page of a site listed in portal.widget_origins:
//   <script src="https://desk.example.com/widget.js" data-department="Sales" async></script>
// A "Help" button opens a request form (name, address, subject with
// suggested articles, message, files). Everything lives in a shadow root, so
// the page's styles and the widget's do not touch; it sends no cookies.
(function () {
  "use strict";
  const me = document.currentScript;
  if (!me || window.frontdeskWidget) return;
  window.frontdeskWidget = true;
  const base = new URL(me.src, location.href).origin;
  const wanted = me.dataset.department || "";
  const wantedTopic = (me.dataset.topic || "").toLowerCase();
  let dict = {}, info = null, stamp = "", stampAt = 0;
  const T = (s, args) => {
    const out = Object.prototype.hasOwnProperty.call(dict, s) && typeof dict[s] === "string" ? dict[s] : s;
    return args ? out.replace(/\{(\w+)\}/g, (m, k) => (Object.prototype.hasOwnProperty.call(args, k) ? String(args[k]) : m)) : out;
  };
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v == null) continue;
      if (k === "text") e.textContent = v; else e.setAttribute(k, v === true ? "" : v);
    }
    e.append(...kids);
    return e;
  };
  const css = `
:host { all: initial; }
* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
.launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; padding: 10px 18px; border: 0; border-radius: 999px; background: #2f5bea; color: #fff; font-size: 15px; font-weight: 600; cursor: pointer; box-shadow: 0 4px 14px rgba(16,24,40,.25); }
.launcher:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible, select:focus-visible, a:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.panel { position: fixed; right: 20px; bottom: 76px; z-index: 2147483001; width: min(380px, calc(100vw - 24px)); max-height: calc(100vh - 100px); overflow: auto; background: #fff; color: #1c2230; border: 1px solid #e3e6ec; border-radius: 10px; box-shadow: 0 10px 30px rgba(16,24,40,.25); padding: 14px 16px; font-size: 14px; line-height: 1.45; }
.panel[hidden] { display: none; }
.head { display: flex; justify-content: space-between; align-items: center; gap: 8px; }
h2 { margin: 0; font-size: 17px; }
.close { border: 0; background: none; font-size: 20px; line-height: 1; cursor: pointer; color: #1c2230; padding: 4px 8px; }
label { display: block; margin-top: 10px; font-size: 13px; color: #475467; }
input, textarea, select { display: block; width: 100%; margin-top: 3px; padding: 7px 9px; border: 1px solid #c8cdd6; border-radius: 6px; font-size: 14px; color: #1c2230; background: #fff; }
textarea { resize: vertical; min-height: 90px; }
.hp { position: absolute; left: -9999px; width: 1px; height: 1px; overflow: hidden; }
.send { margin-top: 12px; padding: 8px 16px; border: 0; border-radius: 6px; background: #2f5bea; color: #fff; font-size: 14px; font-weight: 600; cursor: pointer; }
.send[disabled] { opacity: .6; cursor: default; }
.status { margin: 10px 0 0; }
.status.error { color: #a40000; }
.suggest { margin-top: 6px; padding: 6px 10px; border-left: 3px solid #2f5bea; background: #eef2fe; }
.suggest[hidden] { display: none; }
.suggest p { margin: 0 0 4px; }
.suggest ul { margin: 0; padding-left: 18px; }
a { color: #1f44c4; }
`;
  const host = el("div", { "data-frontdesk-widget": true });
  const root = host.attachShadow({ mode: "open" });
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(el("style", { text: css }));
  }
  const launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "fd-panel", text: "Help" });
  const title = el("h2", { id: "fd-title", text: "How can we help?" });
  const close = el("button", { type: "button", class: "close", "aria-label": "Close", text: "×" });
  const status = el("p", { class: "status", role: "status", "aria-live": "polite" });
  const suggest = el("div", { class: "suggest", "aria-live": "polite", hidden: true });
  const field = (label, input) => el("label", {}, label, input);
  const name = el("input", { type: "text", name: "name", autocomplete: "name", maxlength: "200" });
  const email = el("input", { type: "email", name: "email", autocomplete: "email", required: true });
  const subject = el("input", { type: "text", name: "subject", required: true, maxlength: "300" });
  const body = el("textarea", { name: "body", rows: "5", required: true });
  const files = el("input", { type: "file", name: "files", multiple: true });
  const dept = el("select", { name: "department" });
  const deptLabel = field("Department", dept);
  const topic = el("select", { name: "topic" });
  const topicLabel = field("What is it about?", topic);
  topicLabel.hidden = true;
  const topicFields = el("div", { class: "topic-fields" });
  const send = el("button", { type: "submit", class: "send", text: "Send request" });
  const honeypot = el("div", { class: "hp", "aria-hidden": "true" }, el("label", {}, "Website", el("input", { type: "text", name: "website", tabindex: "-1", autocomplete: "off" })));
  const labels = [["Your name", name], ["Your email address", email], ["Subject", subject], ["How can we help?", body], ["Attach files", files]].map(([t, i]) => field(t, i));
  const form = el("form", { novalidate: false }, honeypot, labels[0], labels[1], deptLabel, topicLabel, topicFields, labels[2], suggest, labels[3], labels[4], send, status);
  const panel = el("div", { class: "panel", id: "fd-panel", role: "dialog", "aria-labelledby": "fd-title", hidden: true }, el("div", { class: "head" }, title, close), form);
  root.append(launcher, panel);

  const relabel = () => {
    launcher.textContent = T("Help");
    title.textContent = T("How can we help?");
    close.setAttribute("aria-label", T("Close"));
    send.textContent = T("Send request");
    deptLabel.firstChild.textContent = T("Department");
    topicLabel.firstChild.textContent = T("What is it about?");
    labels.forEach((l, i) => { l.firstChild.textContent = T(["Your name", "Your email address", "Subject", "How can we help?", "Attach files"][i]); });
  };
  const load = () => fetch(base + "/help/widget/form", { credentials: "omit", headers: { Accept: "application/json" } })
    .then((r) => r.json())
    .then((j) => {
      if (!j.ok) throw new Error("off");
      info = j; stamp = j.stamp; stampAt = Date.now();
      dict = j.texts || {};
      relabel();
      // The dialog says whom the visitor writes to.
      if (j.desk) title.textContent = j.desk;
      dept.textContent = "";
      for (const d of j.departments || []) dept.append(el("option", { value: d, selected: d === wanted, text: d }));
      deptLabel.hidden = !(j.departments || []).length;
      const topics = j.topics || [];
      topicLabel.hidden = !topics.length;
      topic.required = topics.length > 0;
      topic.textContent = "";
      if (topics.length) topic.append(el("option", { value: "", text: T("Choose…") }));
      topics.forEach((t) => topic.append(el("option", { value: t.name, selected: t.name.toLowerCase() === wantedTopic, text: t.name })));
      showTopic();
      return j;
    });
  // The chosen topic's fields, named as the help page names them.
  const showTopic = () => {
    topicFields.textContent = "";
    const topics = (info && info.topics) || [];
    const i = topics.findIndex((t) => t.name === topic.value);
    if (i < 0) return;
    for (const f of topics[i].fields) {
      const name = "field." + i + "." + f.name;
      let input;
      if (f.kind === "select") {
        input = el("select", { name }, el("option", { value: "", text: "—" }), ...f.options.map((o) => el("option", { value: o, text: o })));
      } else if (f.kind === "multi_select") {
        input = el("select", { name, multiple: true }, ...f.options.map((o) => el("option", { value: o, text: o })));
      } else if (f.kind === "long_text") {
        input = el("textarea", { name, rows: "3" });
      } else if (f.kind === "checkbox") {
        input = el("input", { type: "checkbox", name, value: "yes" });
      } else {
        input = el("input", { type: f.kind === "date" ? "date" : "text", name, inputmode: f.kind === "number" ? "decimal" : false });
      }
      topicFields.append(field(f.label, input));
    }
  };
  topic.addEventListener("change", showTopic);
  const say = (text, error) => { status.textContent = text; status.className = "status" + (error ? " error" : ""); };
  const open = () => {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    // A fresh stamp: the time to fill the form counts from here.
    if (Date.now() - stampAt > 60000) load().catch(() => say(T("The help desk cannot be reached right now; please write to us by email."), true));
    name.focus();
  };
  const shut = () => {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  };
  launcher.addEventListener("click", () => (panel.hidden ? open() : shut()));
  close.addEventListener("click", shut);
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.preventDefault(); shut(); } });

  let timer = 0, seq = 0;
  subject.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const q = subject.value.trim(), mine = ++seq;
      if (!info || !info.suggest || q.length < 3) { suggest.hidden = true; return; }
      fetch(base + "/help/suggest?q=" + encodeURIComponent(subject.value), { credentials: "omit", headers: { Accept: "application/json" } })
        .then((r) => r.json())
        .then((j) => {
          if (mine !== seq) return;
          suggest.textContent = "";
          const list = j.articles || [];
          suggest.hidden = !list.length;
          if (!list.length) return;
          const ul = el("ul");
          for (const a of list) ul.append(el("li", {}, el("a", { href: a.url, target: "_blank", rel: "noopener", text: a.title })));
          suggest.append(el("p", { text: T("These articles may answer your question:") }), ul);
        })
        .catch(() => {});
    }, 200);
  });

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    send.disabled = true;
    say(T("Sending…"));
    fetch(base + "/help/widget?stamp=" + encodeURIComponent(stamp), { method: "POST", body: new FormData(form), credentials: "omit", headers: { Accept: "application/json" } })
      .then((r) => r.json().catch(() => ({ ok: false })))
      .then((j) => {
        if (j.ok) {
          form.reset();
          suggest.hidden = true;
          say(j.message || T("Thank you"));
          stampAt = 0;
        } else {
          say(j.error || T("Something went wrong; please try again or write to us by email."), true);
        }
      })
      .catch(() => say(T("The help desk cannot be reached right now; please write to us by email."), true))
      .finally(() => { send.disabled = false; });
  });

  const start = () => { document.body.append(host); load().catch(() => { host.remove(); }); };
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
