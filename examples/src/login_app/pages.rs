//! Server-rendered HTML: one layout, one small inline stylesheet, no JavaScript.
//!
//! The notes pages and the admin page's account actions are [maud](https://maud.lambda.xyz)
//! templates: checked by the compiler, and every value inserted with `(..)` is HTML-escaped
//! unless it is wrapped in `PreEscaped`. The older pages still build strings and put every value
//! from a user or the database through [`esc`].

use std::fmt::Write as _;

use maud::{html, Markup};
use session_core::{csrf, revocation::ActiveSession};

use super::{
    db::{Note, Role, User},
    notes::{MAX_BODY, MAX_TITLE},
};

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Unix seconds as `2026-11-02 14:03 UTC`.
pub fn utc(unix: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{}-{:02}-{:02} {:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Err(_) => format!("{unix} (Unix time)"),
    }
}

const CSS: &str = r#"
:root{--bg:#f4f6fb;--card:#fff;--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--accent:#4f46e5;
--accent-dark:#4338ca;--danger:#b91c1c}
*{box-sizing:border-box}
body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
background:var(--bg);color:var(--ink)}
header{background:#111827;color:#f9fafb}
.bar{max-width:900px;margin:0 auto;padding:.75rem 1.25rem;display:flex;align-items:center;gap:1.1rem}
.bar a,.bar button.link{color:#d1d5db;text-decoration:none;font:inherit}
.bar a:hover,.bar button.link:hover{color:#fff}
.brand{font-weight:700;color:#fff!important;margin-right:auto;letter-spacing:.01em;display:flex;
align-items:center;gap:.55rem}
.logo{width:1.3rem;height:1.3rem;border-radius:6px;background:linear-gradient(135deg,#818cf8,#4f46e5);
box-shadow:inset 0 0 0 3px rgba(255,255,255,.25)}
.bar form{margin:0}
main{max-width:900px;margin:2.25rem auto;padding:0 1.25rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:1.6rem 1.8rem;
box-shadow:0 1px 3px rgba(17,24,39,.05);margin-bottom:1.25rem}
.narrow{max-width:430px;margin-left:auto;margin-right:auto}
h1{font-size:1.55rem;margin:0 0 .35rem}
h2{font-size:1.1rem;margin:0 0 .8rem}
p{margin:.4rem 0 1rem}
label{display:block;font-weight:600;margin:.95rem 0 .3rem}
input[type=text],input[type=password],textarea{width:100%;padding:.6rem .75rem;border:1px solid #d1d5db;
border-radius:9px;font:inherit;background:#fff}
input:focus{outline:2px solid var(--accent);outline-offset:1px;border-color:transparent}
label.check{display:flex;gap:.55rem;align-items:center;font-weight:400}
button,.button{display:inline-block;background:var(--accent);color:#fff;border:0;border-radius:9px;
padding:.62rem 1.15rem;font:inherit;font-weight:600;cursor:pointer;text-decoration:none;margin-top:1.1rem}
button:hover,.button:hover{background:var(--accent-dark)}
button.link{background:none;padding:0;margin:0;font-weight:400;cursor:pointer}
.button.secondary{background:#eef2ff;color:var(--accent-dark)}
.error{background:#fef2f2;color:var(--danger);border:1px solid #fecaca;padding:.6rem .85rem;border-radius:9px}
.notice{background:#eef2ff;color:#3730a3;border:1px solid #c7d2fe;padding:.6rem .85rem;border-radius:9px}
.muted{color:var(--muted)}
main a:not(.button):not(.tile){color:var(--accent)}
.small{font-size:.9rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.45rem 1.4rem;margin:0}
dt{color:var(--muted)}dd{margin:0}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:.55rem .5rem;border-bottom:1px solid var(--line)}
th{color:var(--muted);font-weight:600;font-size:.9rem}
.badge{display:inline-block;font-size:.78rem;font-weight:600;padding:.08rem .55rem;border-radius:999px;
background:#e0e7ff;color:#3730a3;vertical-align:middle}
.badge.admin{background:#fef3c7;color:#92400e}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:1rem}
.tile{display:block;background:var(--card);border:1px solid var(--line);border-radius:14px;padding:1.1rem 1.3rem;
color:inherit;text-decoration:none}
.tile:hover{border-color:var(--accent)}
.tile strong{display:block;margin-bottom:.2rem}
.big{font-size:3rem;font-weight:800;margin:0;color:var(--danger)}
code{background:#f3f4f6;padding:.05rem .35rem;border-radius:5px;font-size:.9em}
form.inline{display:inline;margin:0}
button.small{margin:0 .3rem 0 0;padding:.3rem .7rem;font-size:.85rem}
button.danger{background:var(--danger)}
button.danger:hover{background:#991b1b}
"#;

/// Who the navigation bar is for.
#[derive(Debug, Clone)]
pub enum Nav {
    /// Links to sign in and register.
    Anonymous,
    /// The user's name, an admin link for admins, and a sign-out button (a POST form).
    SignedIn {
        /// Shown in the bar.
        username: String,
        /// Shows the admin link.
        admin: bool,
        /// The session's CSRF token, for the sign-out form.
        csrf: String,
    },
}

/// A whole page: `<head>`, navigation and `main`.
pub fn layout(title: &str, nav: &Nav, main: &str) -> String {
    let links = match nav {
        Nav::Anonymous => r#"<a href="/dashboard">Dashboard</a>
            <a href="/login" id="nav-login">Sign in</a>
            <a href="/register" id="nav-register">Create account</a>"#
            .to_owned(),
        Nav::SignedIn {
            username,
            admin,
            csrf,
        } => format!(
            r#"<a href="/dashboard">Dashboard</a>{admin}
            <a href="/notes" id="nav-notes">Notes</a>
            <a href="/settings">Settings</a>
            <span class="muted small">{user}</span>
            <form method="post" action="/logout" id="logout-form">
              <input type="hidden" name="{field}" value="{csrf}">
              <button type="submit" class="link" id="logout">Sign out</button>
            </form>"#,
            admin = if *admin {
                r#"<a href="/admin">Admin</a>"#
            } else {
                ""
            },
            user = esc(username),
            field = csrf::FIELD,
            csrf = esc(csrf),
        ),
    };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · session-core login app</title>
<style>{CSS}</style>
</head>
<body>
<header><nav class="bar"><a class="brand" href="/"><span class="logo"></span>session-core</a>
{links}
</nav></header>
<main>
{main}
</main>
</body>
</html>
"#,
        title = esc(title),
    )
}

fn csrf_field(csrf: &str) -> String {
    format!(
        r#"<input type="hidden" name="{}" value="{}">"#,
        csrf::FIELD,
        esc(csrf)
    )
}

fn message(class: &str, text: Option<&str>) -> String {
    text.map(|t| format!(r#"<p class="{class}" role="status">{}</p>"#, esc(t)))
        .unwrap_or_default()
}

fn next_field(next: Option<&str>) -> String {
    next.map(|n| format!(r#"<input type="hidden" name="next" value="{}">"#, esc(n)))
        .unwrap_or_default()
}

/// `/`: what the app is, and where to go.
pub fn home(nav: &Nav, signed_out: bool) -> String {
    let notice = message("notice", signed_out.then_some("You have been signed out."));
    let actions = match nav {
        Nav::Anonymous => {
            r#"<a class="button" href="/register">Create an account</a>
            <a class="button secondary" href="/login">Sign in</a>"#
        }
        Nav::SignedIn { .. } => r#"<a class="button" href="/dashboard">Go to your dashboard</a>"#,
    };
    let main = format!(
        r#"{notice}
<section class="card">
<h1>A login app on session-core</h1>
<p>Users live in an SQLite file, passwords are hashed with argon2id, and the session is a signed
cookie checked by attribute macros: <code>#[login_required]</code> on the dashboard,
<code>#[require_role("admin")]</code> on the admin page and
<code>#[authorize(authenticated, fresh = 300)]</code> on the settings.</p>
<p class="muted">The first account created becomes the admin.</p>
{actions}
</section>"#
    );
    layout("Welcome", nav, &main)
}

/// The login form (`next` is kept in a hidden field).
pub struct LoginPage<'a> {
    /// The session's CSRF token.
    pub csrf: &'a str,
    /// A safe `next` path, if any.
    pub next: Option<&'a str>,
    /// The name typed so far.
    pub username: &'a str,
    /// Why the last attempt failed.
    pub error: Option<&'a str>,
    /// Why the user is here.
    pub notice: Option<&'a str>,
}

/// `/login`.
pub fn login(page: &LoginPage<'_>) -> String {
    let main = format!(
        r#"<section class="card narrow">
<h1>Sign in</h1>
{notice}{error}
<form method="post" action="/login" id="login-form">
{csrf}{next}
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{username}" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<label class="check"><input type="checkbox" name="remember" value="on" id="remember"> Remember me on this device</label>
<button type="submit" id="submit">Sign in</button>
</form>
<p class="muted small">No account yet? <a href="/register">Create one</a>.</p>
</section>"#,
        notice = message("notice", page.notice),
        error = message("error", page.error),
        csrf = csrf_field(page.csrf),
        next = next_field(page.next),
        username = esc(page.username),
    );
    layout("Sign in", &Nav::Anonymous, &main)
}

/// `/register`.
pub fn register(csrf: &str, username: &str, error: Option<&str>) -> String {
    let main = format!(
        r#"<section class="card narrow">
<h1>Create an account</h1>
<p class="muted small">3–32 letters, digits, <code>.</code>, <code>_</code> or <code>-</code>;
a password of at least {min} characters.</p>
{error}
<form method="post" action="/register" id="register-form">
{csrf}
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{username}" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="new-password" required>
<label for="confirm_password">Password again</label>
<input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" required>
<button type="submit" id="submit">Create account</button>
</form>
<p class="muted small">Already registered? <a href="/login">Sign in</a>.</p>
</section>"#,
        min = super::accounts::MIN_PASSWORD_LEN,
        error = message("error", error),
        csrf = csrf_field(csrf),
        username = esc(username),
    );
    layout("Create an account", &Nav::Anonymous, &main)
}

/// What the dashboard shows about the session.
pub struct SessionFacts {
    /// When the user signed in (Unix seconds).
    pub signed_in_at: i64,
    /// The idle expiry of the cookie this request carried (Unix seconds).
    pub expires_at: i64,
    /// The first characters of the session id.
    pub session_id: String,
    /// Whether the cookie outlives the browser session.
    pub remembered: bool,
}

fn role_badge(role: Role) -> String {
    let class = match role {
        Role::Admin => "badge admin",
        Role::Member => "badge",
    };
    format!(r#"<span class="{class}">{}</span>"#, role.as_str())
}

/// `/dashboard`.
pub fn dashboard(nav: &Nav, user: &User, facts: &SessionFacts) -> String {
    let admin_tile = if user.role == Role::Admin {
        r#"<a class="tile" href="/admin" id="admin-link"><strong>Admin</strong>
<span class="muted small">Every account, for the <code>admin</code> role only.</span></a>"#
    } else {
        r#"<a class="tile" href="/admin" id="admin-link"><strong>Admin</strong>
<span class="muted small">Not for you: try it to see the 403 page.</span></a>"#
    };
    let main = format!(
        r#"<section class="card">
<h1 id="welcome">Welcome, {name} {badge}</h1>
<p class="muted">Member since {since}.</p>
<dl>
<dt>Signed in</dt><dd>{signed_in}</dd>
<dt>Session ends if unused</dt><dd>{expires}</dd>
<dt>Session id</dt><dd><code>{sid}…</code></dd>
<dt>Cookie</dt><dd>{cookie}</dd>
</dl>
</section>
<div class="tiles">
{admin_tile}
<a class="tile" href="/settings"><strong>Sensitive settings</strong>
<span class="muted small">Asks for your password again after 5 minutes.</span></a>
</div>"#,
        name = esc(&user.username),
        badge = role_badge(user.role),
        since = utc(user.created_at),
        signed_in = utc(facts.signed_in_at),
        expires = utc(facts.expires_at),
        sid = esc(&facts.session_id),
        cookie = if facts.remembered {
            "remembered on this device"
        } else {
            "until the browser closes"
        },
    );
    layout("Dashboard", nav, &main)
}

/// What the admin page shows.
pub struct AdminPage<'a> {
    /// The session's CSRF token, for every action form.
    pub csrf: &'a str,
    /// The signed-in admin's uid: their own row says so.
    pub me: &'a str,
    /// Every account.
    pub users: &'a [User],
    /// What the last action did.
    pub notice: Option<&'a str>,
    /// Why the last action was refused.
    pub error: Option<&'a str>,
}

/// The hidden CSRF field of a maud form.
fn csrf_input(csrf: &str) -> Markup {
    html! { input type="hidden" name=(csrf::FIELD) value=(csrf); }
}

/// The forms of one row: make or remove admin, make or remove editor, and delete (each a
/// CSRF-protected POST).
fn account_actions(csrf: &str, user: &User) -> Markup {
    let (action, label) = match user.role {
        Role::Admin => ("revoke", "Remove admin"),
        Role::Member => ("grant", "Make admin"),
    };
    let (editor_action, editor_label) = match user.editor {
        true => ("revoke", "Remove editor"),
        false => ("grant", "Make editor"),
    };
    let uid = &user.uid;
    html! {
        form method="post" action={"/admin/users/" (uid) "/admin"} class="inline" {
            (csrf_input(csrf))
            input type="hidden" name="action" value=(action);
            button type="submit" class="small" id={(action) "-" (uid)} { (label) }
        }
        form method="post" action={"/admin/users/" (uid) "/editor"} class="inline" {
            (csrf_input(csrf))
            input type="hidden" name="action" value=(editor_action);
            button type="submit" class="small" id={"editor-" (editor_action) "-" (uid)} { (editor_label) }
        }
        form method="post" action={"/admin/users/" (uid) "/delete"} class="inline" {
            (csrf_input(csrf))
            button type="submit" class="small danger" id={"delete-" (uid)} { "Delete account" }
        }
    }
}

/// `/admin`: every account, with role and delete actions.
pub fn admin(nav: &Nav, page: &AdminPage<'_>) -> String {
    let mut rows = String::new();
    for user in page.users {
        let you = if user.uid == page.me {
            r#" <span class="muted small">(you)</span>"#
        } else {
            ""
        };
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}{you}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
            user.id,
            esc(&user.username),
            role_badge(user.role),
            if user.editor {
                r#" <span class="badge">editor</span>"#
            } else {
                ""
            },
            utc(user.created_at),
            account_actions(page.csrf, user).into_string(),
        );
    }
    let main = format!(
        r#"<section class="card">
<h1 id="admin-title">Admin: all accounts</h1>
<p class="muted">Only users with the <code>admin</code> role get this page. The last admin can
neither lose the role nor be deleted.</p>
{notice}{error}
<table id="users">
<thead><tr><th>#</th><th>Username</th><th>Role</th><th>Registered</th><th>Actions</th></tr></thead>
<tbody>{rows}</tbody>
</table>
</section>"#,
        notice = message("notice", page.notice),
        error = message("error", page.error),
    );
    layout("Admin", nav, &main)
}

/// The sessions section of `/settings`: the account's sessions, or why they cannot be shown.
pub type SessionList = Result<Vec<ActiveSession>, String>;

/// One row of the sessions table: device, address, times, and "this device" or an End form.
fn session_row(csrf: &str, n: usize, session: &ActiveSession) -> String {
    let action = if session.current {
        r#"<span class="badge" id="this-device">this device</span>"#.to_owned()
    } else {
        format!(
            r#"<form method="post" action="/settings/sessions/end" class="inline">{csrf}<input type="hidden" name="session" value="{sid}"><button type="submit" class="small danger" id="end-{n}">End</button></form>"#,
            csrf = csrf_field(csrf),
            sid = esc(&session.id),
        )
    };
    format!(
        "<tr><td>{device}</td><td>{address}</td><td>{started}</td><td>{refreshed}</td><td>{action}</td></tr>",
        device = esc(&session.device),
        address = esc(session.address.as_deref().unwrap_or("unknown")),
        started = utc(session.started),
        refreshed = utc(session.refreshed),
    )
}

fn sessions_section(csrf: &str, sessions: &SessionList) -> String {
    let body = match sessions {
        Ok(list) => {
            let rows: String = list
                .iter()
                .enumerate()
                .map(|(n, s)| session_row(csrf, n, s))
                .collect();
            format!(
                r#"<table id="sessions">
<thead><tr><th>Device</th><th>Address</th><th>Signed in</th><th>Last refreshed</th><th></th></tr></thead>
<tbody>{rows}</tbody>
</table>"#
            )
        }
        Err(why) => message("error", Some(why)),
    };
    format!(
        r#"<section class="card">
<h2>Your sessions</h2>
<p class="muted small">Every browser signed in to your account. Ending one signs it out at once.</p>
{body}
</section>"#
    )
}

/// `/settings`: the password form, and the account's sessions.
pub fn settings(
    nav: &Nav,
    csrf: &str,
    sessions: &SessionList,
    notice: Option<&str>,
    error: Option<&str>,
) -> String {
    let main = format!(
        r#"<section class="card narrow">
<h1>Sensitive settings</h1>
<p class="muted small">This page needs a sign-in from the last 5 minutes.</p>
{notice}{error}
<form method="post" action="/settings" id="password-form">
{csrf_field}
<label for="current_password">Current password</label>
<input type="password" id="current_password" name="current_password" autocomplete="current-password" required>
<label for="new_password">New password</label>
<input type="password" id="new_password" name="new_password" autocomplete="new-password" required>
<label for="confirm_password">New password again</label>
<input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" required>
<button type="submit" id="submit">Change password</button>
</form>
</section>
{sessions}"#,
        notice = message("notice", notice),
        error = message("error", error),
        csrf_field = csrf_field(csrf),
        sessions = sessions_section(csrf, sessions),
    );
    layout("Settings", nav, &main)
}

/// `/reauth`: the signed-in user confirms their password.
pub fn reauth(
    nav: &Nav,
    csrf: &str,
    username: &str,
    next: Option<&str>,
    error: Option<&str>,
) -> String {
    let main = format!(
        r#"<section class="card narrow">
<h1>Confirm it's you</h1>
<p class="notice">Please enter your password again to continue, {name}.</p>
{error}
<form method="post" action="/reauth" id="reauth-form">
{csrf}{next}
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required autofocus>
<button type="submit" id="submit">Continue</button>
</form>
</section>"#,
        name = esc(username),
        error = message("error", error),
        csrf = csrf_field(csrf),
        next = next_field(next),
    );
    layout("Confirm your password", nav, &main)
}

/// `/notes`: the user's own notes, and the form to write one.
pub fn notes(nav: &Nav, csrf: &str, notes: &[Note], error: Option<&str>) -> String {
    let main = html! {
        section.card {
            h1 id="notes-title" { "Your notes" }
            p.muted { "Only you, editors and admins can open them." }
            @if notes.is_empty() {
                p.muted id="no-notes" { "No notes yet." }
            } @else {
                ul id="notes" {
                    @for note in notes {
                        li { a href={"/notes/" (note.id)} { (note.title) } " " span.muted.small { (utc(note.created_at)) } }
                    }
                }
            }
        }
        section.card {
            h2 { "Write a note" }
            @if let Some(error) = error { p.error role="status" { (error) } }
            form method="post" action="/notes" id="new-note" {
                (csrf_input(csrf))
                label for="title" { "Title" }
                input type="text" id="title" name="title" required maxlength=(MAX_TITLE);
                label for="body" { "Text" }
                textarea id="body" name="body" rows="6" maxlength=(MAX_BODY) {}
                button type="submit" id="save-note" { "Save" }
            }
        }
    };
    layout("Notes", nav, &main.into_string())
}

/// What the page of one note shows.
pub struct NoteView<'a> {
    /// The session's CSRF token, for the forms.
    pub csrf: &'a str,
    /// The note.
    pub note: &'a Note,
    /// Shows the edit form (the owner, editors, admins).
    pub can_edit: bool,
    /// Shows the delete button (the owner, admins).
    pub can_delete: bool,
    /// Why the last edit was refused.
    pub error: Option<&'a str>,
}

/// `/notes/{id}`: the note, and the forms the user may use.
pub fn note(nav: &Nav, view: &NoteView<'_>) -> String {
    let note = view.note;
    let main = html! {
        section.card id="note" {
            h1 id="note-title" { (note.title) }
            p.muted.small { "Written " (utc(note.created_at)) }
            div id="note-body" style="white-space:pre-wrap" { (note.body) }
        }
        @if view.can_edit {
            section.card {
                h2 { "Edit" }
                @if let Some(error) = view.error { p.error role="status" { (error) } }
                form method="post" action={"/notes/" (note.id) "/edit"} id="edit-note" {
                    (csrf_input(view.csrf))
                    label for="title" { "Title" }
                    input type="text" id="title" name="title" required maxlength=(MAX_TITLE) value=(note.title);
                    label for="body" { "Text" }
                    textarea id="body" name="body" rows="6" maxlength=(MAX_BODY) { (note.body) }
                    button type="submit" id="save-note" { "Save changes" }
                }
            }
        }
        @if view.can_delete {
            form method="post" action={"/notes/" (note.id) "/delete"} id="delete-note" {
                (csrf_input(view.csrf))
                button type="submit" class="danger" id="delete-note-button" { "Delete this note" }
            }
        }
        p { a href="/notes" { "Back to your notes" } }
    };
    layout(&note.title, nav, &main.into_string())
}

/// An error page (403, 404, 500) with a way back.
pub fn error(nav: &Nav, status: u16, title: &str, explanation: &str) -> String {
    let main = format!(
        r#"<section class="card narrow" id="error-page">
<p class="big">{status}</p>
<h1>{title}</h1>
<p>{explanation}</p>
<a class="button secondary" href="/dashboard">Back to the dashboard</a>
</section>"#,
        title = esc(title),
        explanation = esc(explanation),
    );
    layout(title, nav, &main)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_neutralizes_markup_and_attribute_quotes() {
        assert_eq!(
            esc(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn utc_formats_unix_seconds() {
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13 UTC");
    }

    #[test]
    fn session_rows_escape_what_they_show() {
        let session: ActiveSession = serde_json::from_value(serde_json::json!({
            "id": "\"><b>", "started": 0, "refreshed": 0, "expires": 0,
            "device": "<i>", "address": "<u>", "current": false
        }))
        .unwrap();
        let row = session_row("t", 0, &session);
        for raw in ["<b>", "<i>", "<u>"] {
            assert!(!row.contains(raw), "{raw} leaked into {row}");
        }
    }

    #[test]
    fn user_values_are_escaped_in_pages() {
        let page = login(&LoginPage {
            csrf: "\"><script>",
            next: Some("/a?b=\"c\""),
            username: "<b>",
            error: Some("<i>"),
            notice: None,
        });
        for raw in ["<script>", "<b>", "<i>", "\"c\""] {
            assert!(!page.contains(raw), "{raw} leaked into {page}");
        }
    }
}
