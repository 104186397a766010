// frontdesk help page: the chosen help topic's fields; while a customer
// types the subject of a request,
// published articles that may answer it appear under the field (each opens
// in a new tab, so the form keeps what was typed). The form works without it.
(function () {
  "use strict";
  let dict = {};
  try { const el = document.getElementById("fd-i18n"); if (el) dict = JSON.parse(el.textContent) || {}; } catch (_) { dict = {}; }
  const T = (s) => (Object.prototype.hasOwnProperty.call(dict, s) && typeof dict[s] === "string" ? dict[s] : s);
  // Help topics: only the chosen topic's fields show (and are sent).
  const topic = document.getElementById("topic");
  if (topic) {
    const sync = () => document.querySelectorAll("fieldset.topic-fields").forEach((fs) => {
      const on = fs.dataset.topic === topic.value;
      fs.hidden = !on;
      fs.disabled = !on;
    });
    topic.addEventListener("change", sync);
    sync();
  }
  const input = document.querySelector("input[data-suggest]");
  const box = document.getElementById("suggestions");
  if (!input || !box) return;
  let timer = 0, asked = "", seq = 0;
  const show = (articles) => {
    box.textContent = "";
    if (!articles.length) { box.hidden = true; return; }
    const p = document.createElement("p");
    p.textContent = T("These articles may answer your question:");
    const ul = document.createElement("ul");
    for (const a of articles) {
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = a.path || a.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = a.title;
      li.appendChild(link);
      if (a.excerpt) {
        const small = document.createElement("span");
        small.className = "muted";
        small.textContent = " " + a.excerpt;
        li.appendChild(small);
      }
      ul.appendChild(li);
    }
    box.append(p, ul);
    box.hidden = false;
  };
  const ask = () => {
    const q = input.value.trim();
    if (q === asked) return;
    asked = q;
    if (q.length < 3) { show([]); return; }
    const mine = ++seq;
    fetch(input.dataset.suggest + "?q=" + encodeURIComponent(input.value), { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : { articles: [] }))
      .then((j) => { if (mine === seq) show(j.articles || []); })
      .catch(() => {});
  };
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(ask, 200); });
})();
