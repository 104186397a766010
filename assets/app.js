// frontdesk: small progressive enhancements; every page works without JS.
(function () {
  "use strict";
  document.documentElement.classList.remove("no-js");
  // Texts in the page's language: German pages carry the catalog in
  // #fd-i18n (English is the key; no element, or a bad one, means English).
  // {name} placeholders are filled from args after the lookup.
  let dict = {};
  try { const el = document.getElementById("fd-i18n"); if (el) dict = JSON.parse(el.textContent) || {}; } catch (_) { dict = {}; }
  const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  const T = (s, args) => {
    const out = has(dict, s) && typeof dict[s] === "string" ? dict[s] : s;
    return args ? out.replace(/\{(\w+)\}/g, (m, k) => (has(args, k) ? String(args[k]) : m)) : out;
  };
  const typing = (el) => el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);

  // Filters apply as soon as a select changes (delegated: the queue is
  // replaced by live updates).
  document.addEventListener("change", (e) => {
    if (e.target.matches("form[data-autosubmit] select")) e.target.form.submit();
  });

  // Clicking anywhere on a queue row opens the ticket (delegated: rows are
  // replaced by live updates).
  document.addEventListener("click", (e) => {
    const tr = e.target.closest("tr[data-href]");
    if (tr && !e.target.closest("a,button,input,select")) location.href = tr.dataset.href;
  });

  // Internal-note toggle: the reply box turns yellow and the button says so.
  const internal = document.getElementById("internal");
  const send = document.getElementById("sendbtn");
  const box = document.getElementById("reply");
  if (internal && send && box) {
    const rcpt = document.getElementById("recipients");
    const mailit = document.getElementById("mailit");
    const text = document.getElementById("replytext");
    const sync = () => {
      box.classList.toggle("internal", internal.checked);
      const quiet = mailit && !mailit.checked;
      send.textContent = internal.checked ? T("Add internal note") : (quiet ? T("Post without emailing") : T("Send reply"));
      if (rcpt) { rcpt.hidden = internal.checked; rcpt.classList.toggle("off", !!quiet); }
      if (text) text.placeholder = internal.checked ? T("Write an internal note for agents… (n)") : T("Write a reply to the requester… (r)");
    };
    if (mailit) mailit.addEventListener("change", sync);
    internal.addEventListener("change", sync); sync();
  }
  // Drafts: the reply box's text is kept in this browser at every keystroke
  // and on the server every few seconds ("Draft saved"). A save refused
  // because the session ended makes the page say so at once; the text
  // stays, and comes back here after signing in again.
  const draftForm = document.getElementById("reply");
  const draftText = document.getElementById("replytext");
  let sessionEnded = () => {};
  if (draftForm && draftText && draftForm.dataset.draft) {
    // One copy per agent and ticket: {text, note, seen, at}.
    const key = "fd-draft:" + draftForm.dataset.agent + ":" + draftForm.dataset.ref;
    const state = document.getElementById("draftstate");
    const token = document.querySelector("input[name=_csrf]");
    const noteBox = document.getElementById("internal");
    const seen = draftForm.querySelector("input[name=seen]");
    const keep = (v) => {
      try {
        if (v.trim()) localStorage.setItem(key, JSON.stringify({ text: v, note: !!(noteBox && noteBox.checked), seen: Number(seen ? seen.value : 0), at: Date.now() }));
        else localStorage.removeItem(key);
      } catch (_) { /* private mode or full */ }
    };
    const kept = () => { try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (_) { return null; } };
    let dirty = false, ended = false;
    const local = kept();
    // The browser's copy comes back when it is newer than the server's and
    // was written after the agent's own last post here (else it was sent).
    if (draftForm.dataset.sent || (local && local.seen < Number(draftForm.dataset.mine || 0))) keep("");
    else if (local && local.text !== draftText.value && local.at > Number(draftForm.dataset.saved || 0)) {
      draftText.value = local.text;
      if (noteBox && noteBox.checked !== local.note) { noteBox.checked = local.note; noteBox.dispatchEvent(new Event("change")); }
      dirty = true;
      if (state) state.textContent = local.note ? T("Draft restored from this browser (internal note)") : T("Draft restored from this browser (reply)");
    }
    draftText.addEventListener("input", () => { keep(draftText.value); dirty = true; });
    if (noteBox) noteBox.addEventListener("change", () => { keep(draftText.value); dirty = true; });
    sessionEnded = () => {
      if (ended) return;
      ended = true;
      const note = document.createElement("div");
      note.className = "notice error"; note.id = "session-ended"; note.setAttribute("role", "alert");
      const again = document.createElement("a");
      again.href = "/login?next=" + encodeURIComponent(location.pathname);
      again.textContent = T("Sign in again");
      const parts = T("Your session has ended. Your text is kept in this browser. {link} to send it — this ticket gives it back.").split("{link}");
      note.append(parts[0], again, parts.slice(1).join(""));
      draftForm.prepend(note);
      if (state) state.textContent = T("Not saved on the server: signed out");
    };
    let sending = false;
    // No saves once the reply is on its way (unless the submit was stopped).
    draftForm.addEventListener("submit", (e) => { sending = true; setTimeout(() => { if (e.defaultPrevented) sending = false; }, 0); });
    const save = () => {
      if (!dirty || ended || sending || !token) return;
      dirty = false;
      const body = new URLSearchParams({ body: draftText.value, internal: noteBox && noteBox.checked ? "1" : "0", seen: seen ? seen.value : "" });
      fetch(draftForm.dataset.draft, { method: "POST", credentials: "same-origin", redirect: "manual", headers: { "x-csrf-token": token.value }, body })
        .then((r) => {
          if (r.ok) return r.json().then((j) => { if (state) state.textContent = j.dropped ? T("Not saved: you posted here since this page was drawn — reload it") : T("Draft saved {when}", { when: j.shown }); });
          dirty = true;
          if (r.status === 401 || r.status === 403 || r.type === "opaqueredirect") sessionEnded();
        })
        .catch(() => { dirty = true; });
    };
    setInterval(save, 3000);
    window.addEventListener("pagehide", save);
  }

  // Signing out leaves no drafts behind in this browser.
  document.addEventListener("submit", (e) => {
    if (!e.target.matches || !e.target.matches("form[action='/logout']")) return;
    try { Object.keys(localStorage).filter((k) => k.startsWith("fd-draft:")).forEach((k) => localStorage.removeItem(k)); } catch (_) { /* none kept */ }
  });

  // Reply / Add note at the top of the ticket: the reply box in that mode,
  // focused (without JS the link still jumps to it).
  document.addEventListener("click", (e) => {
    const a = e.target.closest("a[data-compose]");
    const area = document.getElementById("replytext");
    if (!a || !area) return;
    e.preventDefault();
    const box = document.getElementById("internal");
    if (box) { box.checked = a.dataset.compose === "note"; box.dispatchEvent(new Event("change")); }
    area.scrollIntoView({ block: "center" });
    area.focus();
  });
  // Ctrl/Cmd+Enter sends the reply.
  const text = document.getElementById("replytext");
  if (text) text.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); text.form.requestSubmit(); } });

  // @mentions: typing "@" in an internal note offers the agents; Enter or
  // Tab takes the first, a click any, Esc closes.
  if (text && text.dataset.agents) {
    const agents = text.dataset.agents.split("\n").filter(Boolean).map((l) => { const i = l.indexOf("|"); return { h: l.slice(0, i), n: l.slice(i + 1) }; });
    const list = document.createElement("ul");
    list.id = "mentionbox"; list.className = "mentionbox"; list.setAttribute("role", "listbox"); list.setAttribute("aria-label", T("Agents to mention")); list.hidden = true;
    text.insertAdjacentElement("afterend", list);
    let picks = [];
    const close = () => { list.hidden = true; picks = []; };
    const typed = () => { const m = text.value.slice(0, text.selectionStart).match(/(^|[\s(\[{<"'])@([\w.\-]*)$/); return m ? m[2] : null; };
    const choose = (a) => {
      const at = text.selectionStart, before = text.value.slice(0, at), start = before.lastIndexOf("@");
      text.value = before.slice(0, start) + "@" + a.h + " " + text.value.slice(at);
      const pos = start + a.h.length + 2; text.setSelectionRange(pos, pos); close(); text.focus();
    };
    text.addEventListener("input", () => {
      const box = document.getElementById("internal");
      const w = typed();
      if (w === null || (box && !box.checked)) return close();
      const q = w.toLowerCase();
      picks = agents.filter((a) => a.h.toLowerCase().startsWith(q) || a.n.toLowerCase().split(/\s+/).some((p) => p.startsWith(q))).slice(0, 6);
      if (!picks.length) return close();
      list.replaceChildren(...picks.map((a) => {
        const li = document.createElement("li"); li.setAttribute("role", "option"); li.textContent = "@" + a.h + " — " + a.n;
        li.addEventListener("mousedown", (e) => { e.preventDefault(); choose(a); }); return li;
      }));
      list.hidden = false;
    });
    text.addEventListener("keydown", (e) => {
      if (list.hidden || e.ctrlKey || e.metaKey) return;
      if (e.key === "Enter" || e.key === "Tab") { e.preventDefault(); choose(picks[0]); }
      else if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); close(); }
    });
    text.addEventListener("blur", () => setTimeout(close, 150));
  }

  // Canned responses: rendered for this ticket by the server, inserted at the cursor.
  const canned = document.getElementById("canned");
  if (canned && text) canned.addEventListener("change", () => {
    const opt = Array.from(document.querySelectorAll("#canned-list option")).find((o) => o.value === canned.value);
    if (!opt) return;
    fetch(canned.dataset.url + encodeURIComponent(opt.dataset.key), { credentials: "same-origin" }).then((r) => r.ok ? r.text() : "").then((t) => {
      const at = text.selectionStart ?? text.value.length;
      text.value = text.value.slice(0, at) + t + text.value.slice(at);
      canned.value = ""; text.focus();
    });
  });

  // Knowledge base articles in the reply: found as the agent types; a
  // public one goes in as a link, any one as its text.
  const kbFind = document.getElementById("kb-find"), kbList = document.getElementById("kb-results");
  if (kbFind && kbList && text) {
    let kbTimer = 0, kbSeq = 0;
    const put = (t) => {
      const at = text.selectionStart ?? text.value.length;
      text.value = text.value.slice(0, at) + t + text.value.slice(at);
      text.dispatchEvent(new Event("input", { bubbles: true }));
      kbList.hidden = true; kbFind.value = ""; text.focus();
    };
    const button = (label, t) => {
      const b = document.createElement("button");
      b.type = "button"; b.className = "linkish"; b.textContent = label;
      b.addEventListener("click", () => put(t));
      return b;
    };
    kbFind.addEventListener("input", () => {
      clearTimeout(kbTimer);
      kbTimer = setTimeout(() => {
        const mine = ++kbSeq, q = kbFind.value.trim();
        if (q.length < 2) { kbList.hidden = true; return; }
        fetch(kbFind.dataset.url + "?q=" + encodeURIComponent(q), { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : { articles: [] })).then((j) => {
          if (mine !== kbSeq) return;
          kbList.textContent = "";
          for (const a of j.articles || []) {
            const li = document.createElement("li");
            const title = document.createElement("strong");
            title.textContent = a.title;
            li.append(title, " ");
            if (a.url) li.append(button(T("Insert link"), a.title + ": " + a.url), " · ");
            li.append(button(T("Insert text"), a.text));
            kbList.appendChild(li);
          }
          if (!kbList.childElementCount) { const li = document.createElement("li"); li.textContent = T("No article matches."); kbList.appendChild(li); }
          kbList.hidden = false;
        }).catch(() => {});
      }, 200);
    });
  }

  // Forms that cannot be undone easily ask first (merge, junk and ban, release).
  document.addEventListener("submit", (e) => {
    const ask = e.target.dataset && e.target.dataset.confirm;
    if (ask && !confirm(ask)) e.preventDefault();
  });

  // "?" shows every shortcut.
  const toggleHelp = () => {
    const old = document.getElementById("kbdhelp");
    if (old) { old.remove(); return; }
    const d = document.createElement("div");
    d.id = "kbdhelp"; d.className = "kbdhelp card"; d.setAttribute("role", "dialog"); d.setAttribute("aria-label", T("Keyboard shortcuts"));
    const keys = [["/", T("Search, or go to a ticket by reference")], ["x", T("Select / unselect the highlighted ticket (bulk actions)")], ["s", T("Change the status (ticket page)")], ["e", T("Edit the subject (ticket page)")], ["c", T("New ticket")], ["j / k", T("Next / previous ticket in the list")], [T("Enter or o"), T("Open the selected ticket")], ["r", T("Reply to the requester")], ["n", T("Write an internal note")], ["m", T("Take the ticket (assign to me) / release it")], [T("Ctrl+Enter"), T("Send the reply or note")], ["?", T("Show or hide this help")], ["Esc", T("Leave a field / close this help")]];
    d.innerHTML = "<h2>" + T("Keyboard shortcuts") + "</h2><dl class='fields'>" + keys.map(([k, v]) => `<dt><kbd>${k}</kbd></dt><dd>${v}</dd>`).join("") + "</dl>";
    const close = document.createElement("button");
    close.type = "button"; close.className = "kbdclose"; close.textContent = T("Close");
    close.addEventListener("click", toggleHelp);
    d.appendChild(close);
    document.body.appendChild(d);
    close.focus();
  };

  // Keyboard: / jump box, c new ticket, r reply, j/k move in the queue, Enter/o open.
  const rowsNow = () => Array.from(document.querySelectorAll("tr[data-href]"));
  let cur = -1;
  const mark = (i) => { const rows = rowsNow(); rows.forEach((r) => r.classList.remove("kbd")); if (rows[i]) { rows[i].classList.add("kbd"); rows[i].scrollIntoView({ block: "nearest" }); } cur = i; };
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(document.activeElement)) {
      if (e.key === "Escape" && document.activeElement) document.activeElement.blur();
      return;
    }
    const jump = document.getElementById("jump");
    if (e.key === "/" && jump) { e.preventDefault(); jump.focus(); }
    else if (e.key === "c") { location.href = "/tickets/new"; }
    else if (e.key === "r" && text) { e.preventDefault(); if (internal && internal.checked) { internal.checked = false; internal.dispatchEvent(new Event("change")); } text.focus(); }
    else if (e.key === "n" && text && internal) { e.preventDefault(); internal.checked = true; internal.dispatchEvent(new Event("change")); text.focus(); }
    else if (e.key === "m" && document.getElementById("claimbtn")) {
      // Takes; releasing asks first (the button's form says which it does).
      const b = document.getElementById("claimbtn");
      const releasing = b.form && b.form.querySelector("input[name=assignee]") && b.form.querySelector("input[name=assignee]").value === "";
      if (!releasing || confirm(T("Release this ticket (unassign yourself)?"))) b.form.submit();
    }
    else if (e.key === "s" && document.querySelector("form.fields select[name=status]")) { e.preventDefault(); document.querySelector("form.fields select[name=status]").focus(); }
    else if (e.key === "e" && document.querySelector("details.subject-edit")) { e.preventDefault(); const d = document.querySelector("details.subject-edit"); d.open = true; d.querySelector("input[name=subject]").focus(); }
    else if (e.key === "x" && rowsNow()[cur]) { const box = rowsNow()[cur].querySelector("input[type=checkbox]"); if (box) { box.checked = !box.checked; syncBulk(); } }
    else if (e.key === "?") { toggleHelp(); }
    else if (e.key === "Escape" && document.getElementById("kbdhelp")) { toggleHelp(); }
    else if (e.key === "j" && rowsNow().length) { mark(Math.min(cur + 1, rowsNow().length - 1)); }
    else if (e.key === "k" && rowsNow().length) { mark(Math.max(cur - 1, 0)); }
    else if ((e.key === "Enter" || e.key === "o") && rowsNow()[cur]) { location.href = rowsNow()[cur].dataset.href; }
  });

  // Dates are shown in the browser's time zone unless the profile names one.
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const want = "fd_tz=" + encodeURIComponent(zone);
    if (zone && !document.cookie.split("; ").includes(want)) document.cookie = want + "; path=/; max-age=31536000; samesite=lax";
  } catch (_) { /* no Intl: UTC */ }

  // Address fields suggest people the desk knows (New ticket's requester);
  // picking one fills the name too.
  document.querySelectorAll("input[data-suggest]").forEach((input) => {
    const list = document.getElementById(input.getAttribute("list"));
    const name = input.form && input.form.querySelector("input[name=requester_name]");
    let known = [], timer = null, asked = "";
    input.addEventListener("input", () => {
      const hit = known.find((p) => p.email === input.value);
      if (hit && name && !name.value) name.value = hit.name;
      clearTimeout(timer);
      timer = setTimeout(() => {
        const q = input.value.trim();
        if (q.length < 2 || q === asked || !list) return;
        asked = q;
        fetch(input.dataset.suggest + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then((r) => r.ok ? r.json() : { people: [] })
          .then((j) => {
            known = j.people || [];
            list.replaceChildren(...known.map((p) => { const o = document.createElement("option"); o.value = p.email; o.label = p.name ? p.name + " <" + p.email + ">" : p.email; return o; }));
          }).catch(() => {});
      }, 150);
    });
  });

  // Phones: the main menu opens from its button; the views and filters
  // drawers start closed on narrow screens and stay open on wide ones.
  const menu = document.querySelector(".menu-toggle");
  if (menu) menu.addEventListener("click", () => {
    const open = menu.closest(".topbar").classList.toggle("open");
    menu.setAttribute("aria-expanded", String(open));
  });
  const narrow = window.matchMedia("(max-width: 900px)");
  const drawers = () => document.querySelectorAll("details[data-drawer]").forEach((d) => { d.open = !narrow.matches; });
  drawers();
  narrow.addEventListener("change", drawers);

  // Bulk: the header box selects every row on the page; the bar shows only
  // while rows are ticked, and says what is missing before it posts.
  const syncBulk = () => {
    const bar = document.querySelector("form.bulkbar[data-when-ticked]");
    if (!bar) return;
    const any = document.querySelector("input[name=id][form=bulk]:checked, form.bulkbar input[name=all]:checked");
    bar.hidden = !any;
  };
  syncBulk();
  document.addEventListener("change", (e) => {
    if (e.target.matches && e.target.matches("input[data-select-all]")) {
      document.querySelectorAll("input[name=id][form=bulk]").forEach((b) => { b.checked = e.target.checked; });
    }
    if (e.target.matches && e.target.matches("input[name=id][form=bulk], input[data-select-all], form.bulkbar input[name=all]")) syncBulk();
  });
  document.addEventListener("submit", (e) => {
    const bar = e.target.closest && e.target.closest("form.bulkbar");
    if (!bar) return;
    const msg = bar.querySelector(".bulk-msg");
    const action = bar.querySelector("select[name=action]").value;
    const ticked = document.querySelector("input[name=id][form=bulk]:checked") || bar.querySelector("input[name=all]:checked");
    const needsTag = action === "tag" || action === "untag";
    let why = "";
    if (!ticked) why = T("Tick the tickets to change first.");
    else if (!action) why = T("Choose what to do with them.");
    else if (needsTag && !bar.querySelector("input[name=value]").value.trim()) why = T("Type the tag to add or remove.");
    if (why) { e.preventDefault(); e.stopImmediatePropagation(); if (msg) msg.textContent = why; return; }
    if (msg) msg.textContent = "";
    // The job comes back to this list when it is done.
    let back = bar.querySelector("input[name=back]");
    if (!back) { back = document.createElement("input"); back.type = "hidden"; back.name = "back"; bar.appendChild(back); }
    back.value = location.pathname + location.search.replace(/([?&])bulk=\d+&?/, "$1").replace(/[?&]$/, "");
  }, true);
  // Column picker: remember the choice for this agent, then apply it.
  document.addEventListener("change", (e) => {
    if (!(e.target.matches && e.target.matches("details.colpick input[name=col]"))) return;
    const form = e.target.form;
    // Only the queue's choice is remembered (a search keeps its columns in its link).
    const token = location.pathname === "/tickets" ? document.querySelector("input[name=_csrf]") : null;
    const cols = [...form.querySelectorAll("input[name=col]:checked")].map((b) => b.value).join(",");
    const apply = () => form.requestSubmit();
    if (!token) { apply(); return; }
    fetch("/tickets/columns", { method: "POST", credentials: "same-origin", headers: { "x-csrf-token": token.value }, body: new URLSearchParams({ cols }) })
      .then(apply, apply);
  });

  // Presence: tell the desk this agent has the ticket open (and is writing);
  // show who else does, and warn before a reply that would cross theirs.
  const presence = document.getElementById("presence");
  const csrfInput = document.querySelector("input[name=_csrf]");
  let othersReplying = [];
  if (presence && csrfInput) {
    const ping = (leaving) => {
      const writing = text && text.value.trim() !== "" ? "1" : "0";
      const body = new URLSearchParams({ replying: writing, leaving: leaving ? "1" : "0" });
      if (leaving) { navigator.sendBeacon && navigator.sendBeacon(presence.dataset.url + "?_csrf=" + encodeURIComponent(csrfInput.value), body); return; }
      fetch(presence.dataset.url, { method: "POST", credentials: "same-origin", headers: { "x-csrf-token": csrfInput.value }, body })
        .then((r) => { if (r.status === 401 || r.status === 403) sessionEnded(); return r.ok ? r.json() : null; }).then((j) => {
          if (!j) return;
          othersReplying = j.others.filter((o) => o.replying).map((o) => o.name);
          presence.textContent = j.others.map((o) => (o.replying ? T("{name} is writing a reply", { name: o.name }) : T("{name} is viewing this ticket", { name: o.name }))).join(" · ");
          presence.classList.toggle("on", j.others.length > 0);
          presence.classList.toggle("hot", othersReplying.length > 0);
        }).catch(() => {});
    };
    ping(false);
    setInterval(() => ping(false), 5000);
    if (text) { let was = false; text.addEventListener("input", () => { const now = text.value.trim() !== ""; if (now !== was) { was = now; ping(false); } }); }
    window.addEventListener("pagehide", () => ping(true));
    const replyForm = document.getElementById("reply");
    if (replyForm) replyForm.addEventListener("submit", (e) => {
      if (othersReplying.length && !(internal && internal.checked) && !confirm(T("{names} is also writing a reply to this ticket. Send yours anyway?", { names: othersReplying.join(", ") }))) { e.preventDefault(); }
    });
  }

  // Live updates: the server announces changed tickets (server-sent events).
  const queue = document.querySelector("section.queue");
  const ticketRef = document.querySelector(".ticket-head .crumbs .ref");
  if ((queue || ticketRef) && window.EventSource) {
    let timer = null;
    const refreshQueue = () => {
      fetch(location.href, { credentials: "same-origin" }).then((r) => r.ok ? r.text() : null).then((html) => {
        if (!html) return;
        // Leave the page alone while the agent is choosing a filter or has
        // tickets selected for a bulk action (only the counts refresh then).
        if (document.activeElement && document.activeElement.closest("form.filters, form.bulkbar, form.searchbar")) return;
        const selecting = document.querySelector("section.queue input[name=id]:checked, section.queue input[name=all]:checked");
        const doc = new DOMParser().parseFromString(html, "text/html");
        for (const sel of selecting ? ["aside.sidebar"] : ["section.queue", "aside.sidebar"]) {
          const fresh = doc.querySelector(sel), old = document.querySelector(sel);
          if (!fresh || !old) continue;
          // A drawer stays as the agent left it.
          const was = [...old.querySelectorAll("details[data-drawer]")].map((d) => d.open);
          fresh.querySelectorAll("details[data-drawer]").forEach((d, i) => { d.open = was[i] ?? !narrow.matches; });
          old.replaceWith(fresh);
        }
        cur = -1;
        syncBulk();
        document.body.dataset.live = String(Date.now());
      });
    };
    // Our own form submission is on its way: its change will show on the next page.
    let leaving = false;
    document.addEventListener("submit", () => { leaving = true; });
    window.addEventListener("beforeunload", () => { leaving = true; });
    const es = new EventSource("/events");
    es.addEventListener("tickets", (ev) => {
      if (leaving) return;
      let refs = [];
      try { refs = JSON.parse(ev.data).tickets || []; } catch (_) { return; }
      if (queue) { clearTimeout(timer); timer = setTimeout(refreshQueue, 30); }
      if (ticketRef && (refs.includes("*") || refs.includes(ticketRef.textContent.trim()))) {
        const draft = text && text.value.trim() !== "";
        if (!draft && document.activeElement !== text) { location.reload(); return; }
        if (!document.getElementById("livebar")) {
          const bar = document.createElement("div");
          bar.id = "livebar"; bar.className = "notice ok"; bar.setAttribute("role", "status");
          bar.innerHTML = T("This ticket changed while you were writing. {link} (copy your draft first).", { link: '<a href="">' + T("Reload") + "</a>" });
          document.querySelector(".ticket-layout").before(bar);
        }
      }
    });
  }
})();
