/// The page's style and its one small script, served from `/static/` (the
/// Content-Security-Policy allows no inline script or style).
enum Assets {
    static let css = """
        *{box-sizing:border-box}
        body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;background:#f6f7f9}
        header{display:flex;align-items:center;justify-content:space-between;padding:.6rem 1rem;background:#1b1f24;color:#fff}
        header a.brand{color:#fff;font-weight:600;text-decoration:none}
        header form{margin:0}
        header .nav{color:#fff;margin-left:auto;margin-right:1rem}
        form.inline{display:inline-flex;gap:.4rem;margin:.3rem .6rem .3rem 0}
        main{max-width:60rem;margin:0 auto;padding:1rem}
        h1{font-size:1.3rem;margin:.5rem 0 1rem;overflow-wrap:anywhere}
        h2{font-size:1.05rem;margin:1.2rem 0 .4rem}
        .meta{color:#57606a;font-size:.9rem;overflow-wrap:anywhere}
        a.row{display:grid;grid-template-columns:1fr auto;gap:.2rem .8rem;padding:.7rem .8rem;margin:0 0 .5rem;background:#fff;border:1px solid #d0d7de;border-left:5px solid #d0d7de;border-radius:6px;color:inherit;text-decoration:none}
        a.row:hover{border-color:#0969da}
        a.row .why{grid-column:1/-1;overflow-wrap:anywhere}
        .badge{font-size:.8rem;font-weight:600;text-transform:uppercase}
        .risk-critical{border-left-color:#cf222e!important}.risk-critical strong,.risk-critical .badge{color:#cf222e}
        .risk-warning{border-left-color:#bf8700!important}.risk-warning strong,.risk-warning .badge{color:#9a6700}
        .risk-notice strong,.risk-notice .badge{color:#57606a}
        pre{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.6rem;overflow-x:auto;max-width:100%;font-size:.85rem;white-space:pre-wrap;overflow-wrap:anywhere}
        pre.diff span{display:block}
        pre.diff .add{background:#dafbe1}pre.diff .del{background:#ffebe9}pre.diff .hunk{color:#0550ae}
        ul.hints{padding-left:1.2rem}
        .message{padding:.6rem .8rem;border-radius:6px;background:#ddf4ff}
        .message.error{background:#ffebe9;color:#82071e}
        label{display:block;margin:.6rem 0 .2rem;font-weight:600}
        textarea,input{width:100%;font:inherit;padding:.4rem;border:1px solid #d0d7de;border-radius:6px}
        textarea#final_file{font-family:ui-monospace,monospace;font-size:.85rem}
        .buttons{display:flex;gap:.6rem;flex-wrap:wrap;margin:.8rem 0}
        button{font:inherit;padding:.55rem 1.1rem;border-radius:6px;border:1px solid #d0d7de;background:#f6f8fa;cursor:pointer}
        button.approve,#modify{background:#1f883d;border-color:#1a7f37;color:#fff}
        button.reject{background:#cf222e;border-color:#a40e26;color:#fff}
        details{margin:.6rem 0}
        .empty{color:#57606a}
        .host{font-family:ui-monospace,monospace;background:#eaeef2;border-radius:4px;padding:0 .3rem}
        form.filters{display:flex;flex-wrap:wrap;align-items:end;gap:.4rem .8rem;margin:0 0 1rem}
        form.filters label{margin:0}
        form.filters select{font:inherit;padding:.3rem;border:1px solid #d0d7de;border-radius:6px}
        """

    /// Live updates: when the server says the queue changed, fetch the list
    /// fragment and put it in place; on a fleet proposal's page, fetch where
    /// the proposal stands, and once it is decided or gone take the decision
    /// form away (the server refuses a stale decision anyway). No framework,
    /// no inline script.
    static let liveScript = """
        (function () {
          "use strict";
          if (!window.EventSource) { return; }
          function follower(element, url, after) {
            var busy = false, again = false, last = null;
            function refresh() {
              if (busy) { again = true; return; }
              busy = true;
              fetch(url, { credentials: "same-origin" })
                .then(function (response) { return response.ok ? response.text() : null; })
                .then(function (html) {
                  if (html !== null && html !== last) { last = html; element.innerHTML = html; if (after) { after(); } }
                })
                .catch(function () {})
                .then(function () { busy = false; if (again) { again = false; refresh(); } });
            }
            return refresh;
          }
          var followers = [];
          var list = document.getElementById("proposals");
          if (list) { followers.push(follower(list, "/fragments/proposals" + window.location.search)); }
          var status = document.getElementById("fleet-status");
          if (status) {
            followers.push(follower(status, status.getAttribute("data-src"), function () {
              var state = document.getElementById("fleet-state");
              var form = document.querySelector("section.decide");
              if (state && form && state.getAttribute("data-open") === "false") { form.remove(); }
            }));
          }
          if (followers.length === 0) { return; }
          var source = new EventSource("/events");
          source.addEventListener("queue", function () { followers.forEach(function (refresh) { refresh(); }); });
        })();
        """
}
