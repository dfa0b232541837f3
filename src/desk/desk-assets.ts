/**
 * The desk's only two assets, served by the app itself (no CDN, no build step): one stylesheet
 * and one small script. Every page works without the script; it only adds live updates (SSE)
 * and "select all".
 */

export const DESK_CSS = `*{box-sizing:border-box}
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--card:#fff;--accent:#0969da;--ok:#1a7f37;--no:#cf222e;--warn:#9a6700}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif}
a{color:var(--accent)}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:3px solid #0969da;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:8px;z-index:2}
header{background:#24292f;color:#fff}header .bar{max-width:1100px;margin:0 auto;padding:10px 16px;display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center}
header .brand{font-weight:700;font-size:18px;color:#fff;text-decoration:none;margin-right:auto}
header nav a{color:#fff;text-decoration:none;padding:8px 4px;display:inline-block}header nav a[aria-current=page]{border-bottom:2px solid #fff}
header form{margin:0}header .who{color:#d1d9e0;font-size:14px}
header button{background:transparent;color:#fff;border:1px solid #8c959f;border-radius:6px;padding:6px 12px;font:inherit;font-size:14px;min-height:36px;cursor:pointer}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:24px;line-height:1.3;margin:0 0 12px;overflow-wrap:anywhere}h2{font-size:17px;margin:0 0 8px}
p{margin:0 0 8px;overflow-wrap:anywhere}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px;margin:0 0 16px}
.eyebrow{margin:0 0 4px;color:var(--muted);font-size:13px;text-transform:uppercase;letter-spacing:.04em}
.small,.hint{color:var(--muted);font-size:14px;font-weight:400}
dl{margin:0}dt{color:var(--muted);font-size:14px}dd{margin:0 0 8px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-size:15px}td,th{border-top:1px solid var(--line);padding:8px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
td:first-child{color:var(--muted);width:35%}
code{font:14px ui-monospace,SFMono-Regular,Menlo,monospace}
pre{margin:0 0 8px;padding:8px;background:var(--bg);border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere}
h3{font-size:16px;margin:12px 0 4px}
label{display:block;font-weight:600;margin:16px 0 4px}
input,select,textarea{width:100%;font:inherit;padding:10px;border:1px solid #8c959f;border-radius:6px;background:#fff;color:var(--fg);min-height:44px}
textarea{min-height:88px}
button,.button{display:inline-block;min-height:44px;padding:10px 18px;font:inherit;font-weight:600;border:0;border-radius:6px;color:#fff;background:var(--ok);cursor:pointer;text-decoration:none}
button.reject{background:var(--no)}button.neutral,.button.neutral{background:#24292f}
button:disabled{background:#8c959f;cursor:not-allowed}
.narrow{max-width:780px;margin:0 auto}
.layout{display:grid;grid-template-columns:260px 1fr;gap:16px;align-items:start}
.filters h2{font-size:15px;margin:12px 0 4px}.filters h2:first-child{margin-top:0}
.filters ul{list-style:none;margin:0;padding:0}.filters li a{display:flex;justify-content:space-between;gap:8px;padding:8px;border-radius:6px;text-decoration:none;color:var(--fg);min-height:40px;align-items:center}
.filters li a[aria-current=true]{background:#ddf4ff;font-weight:600}.filters li a:hover{background:#eef1f4}
.count{background:#eef1f4;border-radius:999px;padding:0 8px;font-size:13px;color:var(--fg);min-width:2em;text-align:center}
.rows{list-style:none;margin:0;padding:0}
.row{display:grid;grid-template-columns:44px 1fr auto;gap:8px 12px;align-items:start;background:var(--card);border:1px solid var(--line);border-left:6px solid var(--line);border-radius:8px;padding:12px;margin:0 0 8px}
.row.p-critical{border-left-color:var(--no)}.row.p-high{border-left-color:#bc4c00}.row.p-normal{border-left-color:var(--accent)}
.row input[type=checkbox]{width:28px;height:28px;min-height:0;margin:4px 0 0}
.row h3{margin:0 0 2px;font-size:17px;overflow-wrap:anywhere}.row h3 a{text-decoration:none}.row h3 a:hover{text-decoration:underline}
.row .meta{color:var(--muted);font-size:14px;margin:0}
.row.gone{opacity:.6}.row .left{white-space:nowrap;font-size:14px;color:var(--muted)}
.tag{display:inline-block;border:1px solid var(--line);border-radius:999px;padding:0 8px;font-size:13px;color:var(--fg);background:#fff;margin-right:4px}
.tag.critical{border-color:var(--no);color:var(--no)}.tag.high{border-color:#bc4c00;color:#953800}
.batch{position:sticky;bottom:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px;display:flex;flex-wrap:wrap;gap:8px;align-items:end;box-shadow:0 -4px 12px #1f232814}
.batch label{margin:0 0 4px}.batch .grow{flex:1 1 100%}.batch .all{display:flex;gap:8px;align-items:center;font-weight:400;margin:0}.batch .all input{width:24px;height:24px;min-height:0}
.actions{display:flex;flex-wrap:wrap;gap:8px;margin-top:16px}.actions button{flex:1 1 200px}
.notice{border-left:6px solid var(--warn)}.done{border-left:6px solid var(--ok)}.bad{border-left:6px solid var(--no)}
.live{border-left:6px solid var(--warn);background:#fff8c5}
.results li{margin:0 0 6px}
.votes li,.history li{margin:0 0 6px}
.empty{color:var(--muted)}
@media (max-width:760px){.layout{grid-template-columns:1fr}.filters{order:2}.row{grid-template-columns:36px 1fr}.row .left{grid-column:2;margin:0}main{padding:12px}h1{font-size:21px}
header .brand{flex:1 1 100%}header .who{display:none}header form{margin-left:auto}
.batch{position:static}.batch button{flex:1 1 100%}}
`;

export const DESK_JS = `"use strict";
(function () {
  var all = document.getElementById("select-all");
  if (all) all.addEventListener("change", function () {
    document.querySelectorAll("input[name=item]").forEach(function (box) { if (!box.disabled) box.checked = all.checked; });
  });
  var watched = document.querySelectorAll("[data-watch]");
  var events = document.body.getAttribute("data-events");
  if (!watched.length || !events || !window.EventSource) return;
  var ids = Array.prototype.map.call(watched, function (el) { return el.getAttribute("data-watch"); });
  var source = new EventSource(events + "?watch=" + encodeURIComponent(ids.join(",")));
  var live = document.getElementById("live");
  source.addEventListener("changed", function (event) {
    var change = JSON.parse(event.data);
    document.querySelectorAll("[data-watch]").forEach(function (el) {
      if (el.getAttribute("data-watch").split(":")[0] !== change.id) return;
      if (el.getAttribute("data-on-change") === "remove") {
        el.remove();
      } else {
        el.querySelectorAll("input,button,select,textarea").forEach(function (c) { c.disabled = true; });
        var note = el.querySelector("[data-live]");
        if (note) { note.hidden = false; note.textContent = change.text; }
      }
      if (live) live.textContent = change.text;
    });
  });
})();
`;
