// The embeddable chat bubble, served as part of /widget.js (see widget.go):
// EINSATZ_CONFIG and einsatzChat come before it in the same closure. It
// draws into a shadow root, so the host page's styles and ours stay apart.
var script = document.currentScript;
var base = script ? new URL(script.src).origin : "";
var conf = EINSATZ_CONFIG;
var t = conf.texts;

function start() {
  var host = document.createElement("div");
  host.id = "einsatz-widget";
  document.body.appendChild(host);
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>" +
    ":host { all: initial; }" +
    "* { box-sizing: border-box; font: 15px/1.45 system-ui, sans-serif; }" +
    "strong, header { font-weight: 600; }" +
    ".bubble { position: fixed; right: 1.25rem; bottom: 1.25rem; width: 3.5rem; height: 3.5rem; border-radius: 50%; border: 0; background: #2357d9; color: #fff; font-size: 1.5rem; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); z-index: 2147483646; display: grid; place-items: center; }" +
    ".panel { position: fixed; right: 1.25rem; bottom: 5.5rem; width: min(24rem, calc(100vw - 2rem)); height: min(34rem, calc(100vh - 7rem)); display: flex; flex-direction: column; background: #f6f7fb; color: #1d2330; border: 1px solid #dfe3ec; border-radius: .9rem; box-shadow: 0 8px 28px rgba(0,0,0,.22); overflow: hidden; z-index: 2147483647; }" +
    ".panel[hidden] { display: none; }" +
    "header { display: flex; justify-content: space-between; align-items: center; padding: .6rem .9rem; background: #2357d9; color: #fff; font-weight: 600; }" +
    "header button { background: none; border: 0; color: #fff; font-size: 1.2rem; cursor: pointer; }" +
    "ol { list-style: none; margin: 0; padding: .75rem; flex: 1; overflow-y: auto; display: flex; flex-direction: column; gap: .6rem; }" +
    "li { padding: .55rem .8rem; border-radius: .7rem; background: #fff; border: 1px solid #dfe3ec; white-space: pre-wrap; max-width: 90%; }" +
    "li.user { align-self: flex-end; background: #e7eefc; }" +
    "li.intro, li.notice { color: #5b6475; }" +
    "li.error { color: #b3261e; }" +
    "li.staff { background: #fff8e6; border-color: #e8c66a; border-left: 4px solid #c98a00; }" +
    ".author { display: flex; gap: .4rem; align-items: center; white-space: normal; }" +
    ".edited { font-size: .8em; color: #5b6475; font-style: italic; margin-top: .15rem; }" +
    ".badge { font-size: .7em; font-weight: 600; text-transform: uppercase; padding: 0 .4rem; border-radius: 1rem; background: #c98a00; color: #fff; }" +
    ".sources { margin: .4rem 0 0; padding-left: 1.1rem; font-size: .9em; white-space: normal; }" +
    ".sources li { border: 0; padding: 0; background: none; }" +
    "a { color: #2357d9; }" +
    ".buttons { display: flex; flex-wrap: wrap; gap: .4rem; margin-top: .5rem; white-space: normal; }" +
    ".buttons button { padding: .25rem .7rem; font-size: .85em; border-radius: .5rem; background: #fff; color: #2357d9; border: 1px solid #2357d9; cursor: pointer; }" +
    ".buttons button.chosen { background: #2357d9; color: #fff; }" +
    ".buttons button:disabled:not(.chosen) { opacity: .45; cursor: default; }" +
    ".typing { margin: 0; padding: 0 .9rem .4rem; color: #5b6475; font-style: italic; }" +
    "form { display: flex; gap: .4rem; padding: .6rem; border-top: 1px solid #dfe3ec; background: #fff; }" +
    "input { flex: 1; padding: .5rem .7rem; border: 1px solid #dfe3ec; border-radius: .5rem; }" +
    "form button { padding: .5rem .9rem; border: 0; border-radius: .5rem; background: #2357d9; color: #fff; cursor: pointer; }" +
    "</style>" +
    "<div class=\"panel\" hidden role=\"dialog\"><header><span class=\"title\"></span><button type=\"button\" class=\"close\">×</button></header>" +
    "<ol class=\"log\" aria-live=\"polite\"><li class=\"intro\"></li></ol><p class=\"typing\" hidden></p>" +
    "<form autocomplete=\"off\"><input maxlength=\"4000\" required><button type=\"submit\"></button></form></div>" +
    "<button type=\"button\" class=\"bubble\"><svg viewBox=\"0 0 24 24\" width=\"26\" height=\"26\" aria-hidden=\"true\"><path fill=\"currentColor\" d=\"M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z\"/></svg></button>";
  var panel = root.querySelector(".panel");
  var log = root.querySelector(".log");
  var input = root.querySelector("input");
  var bubble = root.querySelector(".bubble");
  root.querySelector(".title").textContent = conf.bot;
  root.querySelector(".intro").textContent = t.intro;
  root.querySelector(".typing").textContent = t.typing;
  root.querySelector("form button").textContent = t.send;
  root.querySelector(".close").setAttribute("aria-label", t.close);
  bubble.setAttribute("aria-label", t.open);
  input.placeholder = t.placeholder;
  input.setAttribute("aria-label", t.placeholder);

  var chat = null;
  function open(on) {
    panel.hidden = !on;
    if (on && !chat) {
      // The stream opens with the panel: a page view alone costs the
      // server nothing.
      chat = einsatzChat({
        base: base, token: conf.token, texts: t, log: log, storage: sessionStorage,
        storageKey: "einsatz-widget-conversation", typing: root.querySelector(".typing"),
        scroll: function () { log.scrollTop = log.scrollHeight; }
      });
    }
    if (on) { input.focus(); }
  }
  bubble.addEventListener("click", function () { open(panel.hidden); });
  root.querySelector(".close").addEventListener("click", function () { open(false); });
  root.querySelector("form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    chat.send(text);
  });
  if (sessionStorage.getItem("einsatz-widget-conversation")) { open(true); } // a reload keeps the chat open
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
