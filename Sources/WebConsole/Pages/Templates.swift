/// The page templates (swift-mustache), kept in the binary so the web
/// console is one file to install. `{{x}}` HTML-escapes; `{{{x}}}` is used
/// only for HTML this program rendered itself (a page body, the list).
enum Templates {
    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} — Bottle Supervise</title>
        <link rel="stylesheet" href="/static/app.css">
        </head>
        <body>
        <header><a class="brand" href="/">Bottle Supervise</a>{{#signedInAs}}<span class="nav" id="signed-in-as">{{signedInAs}}</span>{{/signedInAs}}{{#grantsLink}}<a class="nav" href="/grants" id="grants-link">Grants</a>{{/grantsLink}}{{#csrf}}<form method="post" action="/logout" class="logout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Log out</button></form>{{/csrf}}</header>
        <main>{{{body}}}</main>
        {{#live}}<script src="/static/live.js"></script>{{/live}}
        </body>
        </html>
        """

    static let list = """
        <h1>{{heading}}</h1>
        {{#filters}}<form method="get" action="/" class="filters" id="filters"><label for="host">Host</label><select id="host" name="host"><option value="">every host</option>{{#hosts}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/hosts}}</select><label for="bottle">Bottle</label><select id="bottle" name="bottle"><option value="">every bottle</option>{{#bottles}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/bottles}}</select><button type="submit" id="filter">Show</button></form>{{/filters}}
        {{#policyProblem}}<p class="message error" id="policy-problem">The standing rules are off: {{policyProblem}}. No rule decides anything, every proposal waits for a human, until the settings file is fixed (<code>bottle-supervise policy check</code>).</p>{{/policyProblem}}
        <div id="proposals" aria-live="polite">{{{rows}}}</div>
        {{#fleetHosts}}<details id="hosts"><summary>The fleet's hosts ({{count}}): each relay's last word and its audit chain</summary><table class="hosts"><thead><tr><th>host</th><th>relay last seen</th><th>audit records</th><th>chain head</th></tr></thead><tbody>{{#entries}}<tr data-host="{{name}}"><td><span class="host">{{name}}</span></td><td>{{lastSeen}} ago</td><td>{{records}}</td><td><code title="{{head}}">{{headShort}}</code></td></tr>{{/entries}}</tbody></table><p class="meta">The head is the SHA-256 of the last line of the host's audit log (what its next record chains to), as its relay last sent it; on the host, <code>bottle-supervise log --verify</code> checks the whole chain.</p></details>{{/fleetHosts}}
        """

    static let rows = """
        {{^rows}}<p class="empty">{{#emptyText}}{{emptyText}}{{/emptyText}}{{^emptyText}}No pending proposals. New ones appear here as agents ask.{{/emptyText}}</p>{{/rows}}{{#rows}}<a class="row risk-{{risk}}" href="{{href}}" data-id="{{id}}"{{#host}} data-host="{{host}}"{{/host}}><span class="meta">{{#host}}<span class="host">{{host}}</span> · {{/host}}<strong>{{bottle}}</strong> · {{tool}} → {{file}} · {{age}}{{#waiting}} · agent waiting{{/waiting}}{{#approvals}} · {{approvals}}{{/approvals}}</span><span class="badge">{{riskLabel}}</span><span class="why">{{justification}}</span></a>{{/rows}}{{#more}}<p class="meta" id="more">{{more}}{{#previous}} <a href="{{previous}}" id="previous-page">← previous {{previousCount}}</a>{{/previous}}{{#next}} <a href="{{next}}" id="next-page">next {{nextCount}} →</a>{{/next}}</p>{{/more}}
        """

    static let proposal = """
        <p><a href="/">← all proposals</a></p>
        <h1>{{bottle}}: {{tool}} → {{file}}</h1>
        <p class="meta">{{#host}}<span class="host" id="host">host {{host}}</span> · {{/host}}{{id}} · created {{created}} · <span id="state">{{state}}</span></p>
        {{#liveStatusURL}}<div id="fleet-status" data-src="{{liveStatusURL}}" aria-live="polite">{{{liveStatus}}}</div>{{/liveStatusURL}}
        {{#message}}<p class="message {{messageKind}}" id="message">{{message}}</p>{{/message}}
        {{#policyProblem}}<p class="message error" id="policy-problem">The standing rules are off: {{policyProblem}}. No rule decides anything, every proposal waits for a human, until the settings file is fixed (<code>bottle-supervise policy check</code>).</p>{{/policyProblem}}
        {{#conflict}}<p class="message error">The bottle's current file changed since this proposal was made: read the diff against it before deciding.</p>{{/conflict}}
        {{#invalid}}<p class="message error">This proposal cannot be applied: {{invalid}}</p>{{/invalid}}
        <section><h2>Justification</h2><pre class="text" id="justification">{{justification}}</pre></section>
        <section><h2>Risk hints</h2>{{^hints}}<p>None found. Hints inform; none found does not make a change safe.</p>{{/hints}}<ul class="hints">{{#hints}}<li class="risk-{{severity}}"><strong>{{severity}}</strong>{{#line}} line {{line}}{{/line}}: {{reason}}</li>{{/hints}}</ul></section>
        <section><h2>Summary</h2><ul>{{#summary}}<li>{{text}}</li>{{/summary}}</ul></section>
        {{#pending}}<section class="decide"><h2>Decide</h2>
        <form method="post" action="{{decideURL}}">
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="reviewed" value="{{reviewed}}">
        {{#approvalState}}<p class="message" id="approvals">{{approvalState}}</p>{{/approvalState}}
        {{#expires}}<p class="meta" id="expires">Expires {{expires}} unless decided.{{#extendable}} <button type="submit" name="action" value="extend" id="extend">Extend by 1 hour</button>{{/extendable}}</p>{{/expires}}
        <label for="notes">Notes to the agent (required to reject without a preset answer)</label>
        <textarea id="notes" name="notes" rows="2"></textarea>
        {{#hasAnswers}}<label for="answer">Preset answer (its text goes first in the notes; the agent also gets its name)</label>
        <select id="answer" name="answer"><option value="">(none)</option>{{#answers}}<option value="{{name}}">{{name}}</option>{{/answers}}</select>{{/hasAnswers}}
        <div class="buttons"><button type="submit" name="action" value="approve" class="approve" id="approve">Approve</button>{{#grantable}}<button type="submit" name="action" value="approve-1h" class="approve" id="approve-1h">1 hour</button><button type="submit" name="action" value="approve-8h" class="approve" id="approve-8h">8 hours</button><button type="submit" name="action" value="approve-always" class="approve" id="approve-always">always</button>{{/grantable}}{{^fleet}}<button type="submit" name="action" value="approve-remember" class="approve" id="approve-remember" title="Approve, and from now on approve exactly these hosts or routes in this bottle by a standing rule">Approve and remember</button>{{/fleet}}<button type="submit" name="action" value="reject" class="reject" id="reject">Reject</button></div>
        {{#grantable}}<p class="meta">Approve uses the bottle's default duration (supervise.toml [grants]), else for good; 1 hour and 8 hours grant the change for that long, then take it out again.</p>{{/grantable}}
        {{#hasAnswers}}<div class="buttons answers">{{#answers}}<button type="submit" name="preset" value="{{name}}" class="reject" title="{{text}}">Reject: {{name}}</button>{{/answers}}</div>{{/hasAnswers}}
        {{#proposed}}<details id="modify-panel"><summary>Modify before approving</summary>
        <label for="final_file">The {{file}} to approve instead</label>
        <textarea id="final_file" name="final_file" rows="12" spellcheck="false">{{proposed}}</textarea>
        <button type="submit" name="action" value="modify" id="modify">Approve this version</button></details>{{/proposed}}
        {{#uneditable}}<p class="message error" id="uneditable">{{uneditable}}</p>{{/uneditable}}
        </form></section>{{/pending}}
        {{#forged}}<p class="message error">{{forged}}</p>{{/forged}}{{#decision}}<section><h2>Decision</h2><p><strong>{{status}}</strong> by {{decidedBy}} at {{decidedAt}}</p>{{#delivery}}<p id="delivery">{{delivery}}</p>{{/delivery}}{{#rule}}<p>By the standing rule <strong>{{rule}}</strong>, with no human.</p>{{/rule}}{{#expiresAt}}<p id="grant-end">Time-boxed: the change is taken out again at {{expiresAt}} (<a href="/grants">grants</a>).</p>{{/expiresAt}}{{#notes}}<p>Notes: {{notes}}</p>{{/notes}}{{#answer}}<p>Preset answer: {{answer}}</p>{{/answer}}{{#apply}}<p>Apply: {{apply}}</p>{{/apply}}{{#since}}<p class="message error">{{since}}</p>{{/since}}</section>{{/decision}}
        <section><h2>{{diffHeading}}</h2><pre class="diff">{{#diff}}<span class="{{kind}}">{{text}}</span>
        {{/diff}}</pre>{{#diffCut}}<p class="meta">{{diffCut}}</p>{{/diffCut}}</section>
        <section><details><summary>Current {{file}}</summary><pre class="text">{{current}}</pre></details></section>
        """

    /// Where a fleet proposal stands: refetched live on its page (`data-open="false"`: decided or gone).
    static let fleetStatus = """
        <p class="message" id="fleet-state" data-open="{{#open}}true{{/open}}{{^open}}false{{/open}}">{{text}}</p>{{#delivery}}<p class="meta" id="fleet-delivery">{{delivery}}</p>{{/delivery}}
        """

    static let grants = """
        <p><a href="/">← all proposals</a></p>
        <h1>Live grants</h1>
        {{#message}}<p class="message {{messageKind}}" id="message">{{message}}</p>{{/message}}
        {{#error}}<p class="message error">{{error}}</p>{{/error}}
        {{^grants}}<p class="empty">No live grants. A time-boxed approval (1 hour, 8 hours) appears here until it ends.</p>{{/grants}}
        {{#grants}}<section class="grant" data-id="{{id}}"><h2>{{bottle}} · {{file}} · <a href="/proposals/{{id}}">{{id}}</a></h2>
        <p class="meta">ends {{ends}} (in {{left}}) · granted by {{grantedBy}}</p>{{#endError}}<p class="message error">Could not end it: {{endError}}</p>{{/endError}}
        <ul>{{#holds}}<li>{{.}}</li>{{/holds}}</ul>
        <form method="post" action="/grants/{{id}}/revoke" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="reject" id="revoke-{{id}}">Revoke now</button></form>
        <form method="post" action="/grants/{{id}}/extend" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" name="for" value="1h" id="extend-1h-{{id}}">Extend: 1 hour from now</button><button type="submit" name="for" value="8h" id="extend-8h-{{id}}">8 hours from now</button></form>
        </section>{{/grants}}
        """

    static let operatorSignIn = """
        <h1>Sign in</h1>
        {{#message}}<p class="message error" id="message">{{message}}</p>{{/message}}
        {{#name}}<p>This link signs you in to the fleet page as the operator <strong id="operator">{{name}}</strong>; your decisions carry that name. It works once.</p>
        <form method="post" action="/login/operator"><input type="hidden" name="token" value="{{token}}"><button type="submit" id="sign-in">Sign in as {{name}}</button></form>{{/name}}
        """

    static let login = """
        <h1>Log in</h1>
        {{#message}}<p class="message error">{{message}}</p>{{/message}}
        <p>Open the login link <code>bottle-supervise web</code> printed when it started (each link works once), or paste the access token from its file (<code>~/.claude-bottle/web-token</code> unless <code>--token-file</code> says otherwise).</p>
        <form method="post" action="/login"><label for="token">Access token</label><input id="token" name="token" type="password" autocomplete="current-password"><button type="submit">Log in</button></form>
        """
}
