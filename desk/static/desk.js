// newswatch review desk: keyboard and buttons for decisions. Served by the app
// (no CDN, no framework). Item text is never parsed as HTML here: the state line
// is rebuilt with textContent only.
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var flash = document.getElementById("flash");
  var current = -1;

  function entries() {
    return Array.prototype.slice.call(document.querySelectorAll("article.entry"));
  }

  function say(text, bad) {
    if (!flash) return;
    flash.textContent = text;
    flash.classList.toggle("bad", !!bad);
  }

  function select(index) {
    var list = entries();
    if (!list.length) return null;
    index = Math.max(0, Math.min(list.length - 1, index));
    if (list[current]) list[current].classList.remove("current");
    current = index;
    var el = list[index];
    el.classList.add("current");
    var active = document.activeElement;
    // A decision answered late must not take the focus from a field being typed in.
    if (!(active && active.matches && active.matches("input, textarea, select"))) {
      el.focus({ preventScroll: true });
    }
    el.scrollIntoView({ block: "nearest" });
    return el;
  }

  function selected() {
    var list = entries();
    return list[current] || select(0);
  }

  function renderState(el, s) {
    el.setAttribute("data-decision", s.decision);
    var line = el.querySelector('[data-role="state"]');
    line.textContent = "";
    var by = document.createElement("span");
    by.className = "by";
    by.textContent = s.reviewer || "";
    if (s.decision === "undecided") {
      if (!s.reviewer) { line.textContent = "undecided"; return; }
      line.append("undecided (undone by ", by, " at " + s.decided_at + ")");
      return;
    }
    var b = document.createElement("b");
    b.className = "d-" + s.decision;
    b.textContent = s.decision;
    line.append(b, " by ", by, " at " + s.decided_at);
    if (s.note) {
      var q = document.createElement("q");
      q.textContent = s.note;
      line.append(" — note: ", q);
    }
  }

  function send(el, action, decision) {
    var body = new FormData();
    body.set("csrf", csrf);
    body.set("item_id", el.getAttribute("data-id"));
    var note = el.querySelector("input.note");
    if (decision) {
      body.set("decision", decision);
      body.set("note", note ? note.value : "");
    }
    return fetch(action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
    }).then(function (r) {
      if (!r.ok) {
        return r.text().then(function (t) { say(t || ("error " + r.status), true); return false; });
      }
      return r.json().then(function (s) {
        renderState(el, s);
        if (decision && note) note.value = "";
        say(decision ? s.decision : "undone: now " + s.decision);
        return true;
      });
    }).catch(function (e) { say("not saved: " + e, true); return false; });
  }

  function decide(decision) {
    var el = selected();
    if (!el) return;
    send(el, "/decide", decision).then(function (ok) {
      if (ok) select(current + 1);
    });
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target;
    var typing = t && t.matches && t.matches("input, textarea, select");
    if (typing) {
      if (ev.key === "Escape" || (ev.key === "Enter" && t.classList.contains("note"))) {
        // Enter in a note must not submit the form (its first button confirms).
        ev.preventDefault();
        t.blur();
        var list = entries();
        if (list[current]) list[current].focus({ preventScroll: true });
      }
      return;
    }
    var el;
    switch (ev.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "c": decide("confirmed"); break;
      case "d": decide("dismissed"); break;
      case "u":
        el = selected();
        if (el) send(el, "/undo", null);
        break;
      case "n":
        el = selected();
        if (el) el.querySelector("input.note").focus();
        break;
      case "/":
        el = document.getElementById("search");
        if (el) el.focus();
        break;
      default: return;
    }
    ev.preventDefault();
  });

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.matches("form.decide, form.undo")) return;
    ev.preventDefault();
    var el = form.closest("article.entry");
    select(entries().indexOf(el));
    if (form.matches("form.undo")) {
      send(el, "/undo", null);
    } else {
      var button = ev.submitter;
      if (!button || !button.value) return;  // no implicit confirm
      send(el, "/decide", button.value).then(function (ok) {
        if (ok) select(current + 1);
      });
    }
  });

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest && ev.target.closest("article.entry");
    if (el && !ev.target.closest("a, button, input")) select(entries().indexOf(el));
  });

  // A filter takes effect as soon as it is chosen.
  var filters = document.getElementById("filters");
  function dropEmpty() {
    // Empty filters stay out of the URL, so it reads as what was chosen.
    Array.prototype.forEach.call(filters.elements, function (el) {
      if (el.name && !el.value) el.disabled = true;
    });
  }
  if (filters) {
    filters.addEventListener("change", function (ev) {
      if (!ev.target.matches("select")) return;
      dropEmpty();
      filters.submit();
    });
    filters.addEventListener("submit", dropEmpty);
  }

  if (entries().length) select(0);
})();
