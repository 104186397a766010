// frontdesk: small progressive enhancements; every page works without JS.
(function () {
  "use strict";
  const typing = (el) => el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);

  // Filters apply as soon as a select changes.
  document.querySelectorAll("form[data-autosubmit] select").forEach((s) =>
    s.addEventListener("change", () => s.form.submit()));

  // Clicking anywhere on a queue row opens the ticket.
  document.querySelectorAll("tr[data-href]").forEach((tr) =>
    tr.addEventListener("click", (e) => { if (!e.target.closest("a,button,input,select")) location.href = tr.dataset.href; }));

  // Internal-note toggle: the reply box turns yellow and the button says so.
  const internal = document.getElementById("internal");
  const send = document.getElementById("sendbtn");
  const box = document.getElementById("reply");
  if (internal && send && box) {
    const sync = () => { box.classList.toggle("internal", internal.checked); send.textContent = internal.checked ? "Add internal note" : "Send reply"; };
    internal.addEventListener("change", sync); sync();
  }
  // Ctrl/Cmd+Enter sends the reply.
  const text = document.getElementById("replytext");
  if (text) text.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); text.form.requestSubmit(); } });

  // Keyboard: / jump box, c new ticket, r reply, j/k move in the queue, Enter/o open.
  const rows = Array.from(document.querySelectorAll("tr[data-href]"));
  let cur = -1;
  const mark = (i) => { rows.forEach((r) => r.classList.remove("kbd")); if (rows[i]) { rows[i].classList.add("kbd"); rows[i].scrollIntoView({ block: "nearest" }); } cur = i; };
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(document.activeElement)) {
      if (e.key === "Escape" && document.activeElement) document.activeElement.blur();
      return;
    }
    const jump = document.getElementById("jump");
    if (e.key === "/" && jump) { e.preventDefault(); jump.focus(); }
    else if (e.key === "c") { location.href = "/tickets/new"; }
    else if (e.key === "r" && text) { e.preventDefault(); text.focus(); }
    else if (e.key === "j" && rows.length) { mark(Math.min(cur + 1, rows.length - 1)); }
    else if (e.key === "k" && rows.length) { mark(Math.max(cur - 1, 0)); }
    else if ((e.key === "Enter" || e.key === "o") && rows[cur]) { location.href = rows[cur].dataset.href; }
  });
})();
