// The chat page: sends each message to POST /api/chat and shows the replies.
(function () {
  "use strict";
  var main = document.querySelector("main.chat");
  var log = document.getElementById("log");
  var form = document.getElementById("ask");
  var input = document.getElementById("text");
  var conversation = sessionStorage.getItem("einsatz-conversation");
  if (!conversation) {
    conversation = randomId();
    sessionStorage.setItem("einsatz-conversation", conversation);
  }

  function randomId() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function show(cls, text, sources) {
    var li = document.createElement("li");
    li.className = cls;
    li.textContent = text;
    if (sources && sources.length) {
      var ul = document.createElement("ul");
      ul.className = "sources";
      sources.forEach(function (s) {
        var item = document.createElement("li");
        if (s.url && /^https?:\/\//.test(s.url)) {
          var a = document.createElement("a");
          a.href = s.url;
          a.rel = "noopener";
          a.textContent = s.title;
          item.appendChild(a);
        } else {
          item.textContent = s.title;
        }
        ul.appendChild(item);
      });
      li.appendChild(ul);
    }
    log.appendChild(li);
    li.scrollIntoView({ block: "end" });
    return li;
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    show("user", text);
    var headers = { "Content-Type": "application/json" };
    if (main.dataset.token) { headers["X-Chat-Token"] = main.dataset.token; }
    fetch("/api/chat", {
      method: "POST",
      headers: headers,
      body: JSON.stringify({ conversation_id: conversation, message_id: randomId(), text: text })
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, status: r.status, body: body }; });
    }).then(function (res) {
      if (!res.ok && res.status !== 202) { throw new Error(res.body.error || res.status); }
      (res.body.replies || []).forEach(function (reply) { show("bot", reply.text, reply.sources); });
      if (res.body.status === "queued" || res.body.status === "pending") { show("bot notice", main.dataset.busy); }
    }).catch(function () {
      show("bot error", main.dataset.error);
    });
  });
})();
