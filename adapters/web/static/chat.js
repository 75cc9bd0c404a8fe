// The chat page: the conversation is drawn by einsatzChat (chatcore.js),
// live through the event stream; this file wires the page's form to it.
(function () {
  "use strict";
  var main = document.querySelector("main.chat");
  var input = document.getElementById("text");
  var chat = einsatzChat({
    token: main.dataset.token,
    texts: { error: main.dataset.error, busy: main.dataset.busy, staff: main.dataset.staff, edited: main.dataset.edited },
    log: document.getElementById("log"),
    typing: document.getElementById("typing"),
    storage: sessionStorage
  });
  document.getElementById("ask").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    chat.send(text);
  });
})();
