// The chat core shared by the chat page (chat.js) and the embeddable widget
// (/widget.js): one conversation over the JSON API (POST /api/chat) and its
// event stream (GET /api/chat/{id}/events), drawing every message once with
// its sources and buttons, staff replies with their author, and the typing
// indicator. Staff can change a reply after it was sent: an "edit" event
// rewrites the message (marked as edited), a "delete" event removes it.
//
// opts: base (the server's URL, "" on its own page), token (the page token),
// texts ({error, busy, staff, edited}), log (the list to draw into), typing (the
// element shown while the bot works), storage (keeps the conversation id),
// storageKey, scroll (optional: brings a new message into view).
function einsatzChat(opts) {
  "use strict";
  var base = opts.base || "";
  var texts = opts.texts || {};
  var log = opts.log;
  var storageKey = opts.storageKey || "einsatz-conversation";
  var conversation = opts.storage.getItem(storageKey);
  if (!conversation) {
    conversation = randomId();
    opts.storage.setItem(storageKey, conversation);
  }
  var shown = {};   // event ids drawn already
  var mine = {};    // message ids this page sent and drew at once
  var gone = {};    // event ids of messages staff deleted
  var answered = {}; // names of replies drawn (reply_to#part): a reply the
                     // server sends again after a crash shows once
  var lastId = 0;   // the newest event id seen, to resume after an error
  var source = null;
  var retry = null;

  function randomId() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function scroll(li) {
    if (opts.scroll) { opts.scroll(li); } else { li.scrollIntoView({ block: "end" }); }
  }

  function setTyping(on) {
    if (opts.typing) { opts.typing.hidden = !on; }
  }

  function add(cls, text) {
    var li = document.createElement("li");
    li.className = cls;
    var body = document.createElement("div");
    body.className = "text";
    body.textContent = text;
    li.appendChild(body);
    log.appendChild(li);
    scroll(li);
    return li;
  }

  function sources(li, list) {
    if (!list || !list.length) { return; }
    var ul = document.createElement("ul");
    ul.className = "sources";
    list.forEach(function (s) {
      var item = document.createElement("li");
      if (s.url && /^https?:\/\//.test(s.url)) {
        var a = document.createElement("a");
        a.href = s.url;
        a.rel = "noopener";
        a.target = "_blank";
        a.textContent = s.title;
        item.appendChild(a);
      } else {
        item.textContent = s.title;
      }
      ul.appendChild(item);
    });
    li.appendChild(ul);
  }

  function buttons(li, list) {
    if (!list || !list.length) { return; }
    var box = document.createElement("div");
    box.className = "buttons";
    list.forEach(function (b) {
      var btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.label;
      btn.dataset.action = b.action;
      btn.addEventListener("click", function () {
        Array.prototype.forEach.call(box.querySelectorAll("button"), function (x) { x.disabled = true; });
        btn.classList.add("chosen");
        post({ action: b.action, value: b.value || "" }).catch(function () {
          Array.prototype.forEach.call(box.querySelectorAll("button"), function (x) { x.disabled = false; });
          btn.classList.remove("chosen");
          add("bot error", texts.error);
        });
      });
      box.appendChild(btn);
    });
    li.appendChild(box);
  }

  // fresh reports whether an event is new, and remembers it.
  function fresh(ev) {
    if (!ev.id) { return true; }
    if (shown[ev.id]) { return false; }
    shown[ev.id] = true;
    lastId = Math.max(lastId, ev.id);
    return true;
  }

  function drawn(id) {
    return log.querySelector('li[data-event="' + id + '"]');
  }

  // markEdited shows once that staff changed the message.
  function markEdited(li) {
    if (li.querySelector(".edited")) { return; }
    var note = document.createElement("div");
    note.className = "edited";
    note.textContent = texts.edited || "edited";
    li.querySelector(".text").insertAdjacentElement("afterend", note);
  }

  // edit rewrites a message staff changed.
  function edit(ev) {
    if (!fresh(ev)) { return; }
    var li = drawn(ev.target);
    if (!li) { return; }
    li.querySelector(".text").textContent = ev.text;
    markEdited(li);
  }

  // remove takes out a message staff deleted (and keeps it out).
  function remove(ev) {
    if (!fresh(ev)) { return; }
    gone[ev.target] = true;
    var li = drawn(ev.target);
    if (li) { li.parentNode.removeChild(li); }
  }

  // message draws one message event (from the stream or an API response)
  // unless it was drawn before.
  function message(ev) {
    if (!fresh(ev) || gone[ev.id]) { return; }
    if (ev.role === "user") {
      if (!mine[ev.message_id]) { add("user", ev.text); }
      return;
    }
    // A reply to a message is named by the message's event key and its
    // place among that message's replies, the same in every run of the
    // server: one resumed after a crash comes again under the same name.
    var name = ev.reply_to ? ev.reply_to + "#" + (ev.part || 0) : "";
    if (name && answered[name]) { return; }
    if (name) { answered[name] = true; }
    var li;
    if (ev.role === "staff" || ev.author_name) {
      li = add("staff", ev.text);
      var who = document.createElement("div");
      who.className = "author";
      var name = document.createElement("strong");
      name.textContent = ev.author_name;
      var badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = texts.staff;
      who.appendChild(name);
      who.appendChild(badge);
      li.insertBefore(who, li.firstChild);
    } else {
      li = add(ev.notice ? "bot notice" : "bot", ev.text);
    }
    if (ev.id) { li.dataset.event = ev.id; }
    if (name) { li.dataset.reply = name; }
    if (ev.edited) { markEdited(li); }
    sources(li, ev.sources);
    buttons(li, ev.buttons);
  }

  function connect() {
    if (typeof EventSource === "undefined") { return; }
    var q = [];
    if (opts.token) { q.push("token=" + encodeURIComponent(opts.token)); }
    if (lastId) { q.push("last_event_id=" + lastId); }
    source = new EventSource(base + "/api/chat/" + conversation + "/events" + (q.length ? "?" + q.join("&") : ""));
    source.addEventListener("message", function (e) { message(JSON.parse(e.data)); });
    source.addEventListener("edit", function (e) { edit(JSON.parse(e.data)); });
    source.addEventListener("delete", function (e) { remove(JSON.parse(e.data)); });
    source.addEventListener("typing", function (e) { setTyping(JSON.parse(e.data).typing); });
    source.addEventListener("error", function () {
      // EventSource reconnects by itself (with Last-Event-ID) unless the
      // server refused the stream; then try again a little later.
      if (source.readyState === EventSource.CLOSED && !retry) {
        retry = setTimeout(function () { retry = null; connect(); }, 5000);
      }
    });
  }

  function post(body) {
    body.conversation_id = conversation;
    body.message_id = body.message_id || randomId();
    var headers = { "Content-Type": "application/json" };
    if (opts.token) { headers["X-Chat-Token"] = opts.token; }
    return fetch(base + "/api/chat", { method: "POST", headers: headers, body: JSON.stringify(body) }).then(function (r) {
      return r.json().then(function (b) { return { ok: r.ok, status: r.status, body: b }; });
    }).then(function (res) {
      if (!res.ok && res.status !== 202) { throw new Error(res.body.error || res.status); }
      (res.body.replies || []).forEach(function (r) {
        r.id = r.event_id;
        message(r);
      });
      if (res.body.status === "queued" || res.body.status === "pending") { add("bot notice", texts.busy); }
      return res.body;
    });
  }

  connect();
  return {
    conversation: conversation,
    // send shows the visitor's message at once and posts it.
    send: function (text) {
      var id = randomId();
      mine[id] = true;
      add("user", text);
      return post({ text: text, message_id: id }).catch(function () {
        setTyping(false);
        add("bot error", texts.error);
      });
    }
  };
}
