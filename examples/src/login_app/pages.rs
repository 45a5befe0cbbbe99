//! Server-rendered HTML: one layout, one small inline stylesheet, no JavaScript.
//!
//! Every page is a [maud](https://maud.lambda.xyz) template: Rust the compiler checks, in which
//! every value inserted with `(..)` is HTML-escaped (element text and attribute values alike).
//! The only markup not escaped is this module's own constant stylesheet (`PreEscaped(CSS)`).

use maud::{html, Markup, PreEscaped, DOCTYPE};
use session_core::{csrf, revocation::ActiveSession};

use super::{
    db::{Note, Role, User},
    notes::{MAX_BODY, MAX_TITLE},
};

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
pub fn layout(title: &str, nav: &Nav, main: Markup) -> String {
    let links = match nav {
        Nav::Anonymous => html! {
            a href="/dashboard" { "Dashboard" }
            a href="/login" id="nav-login" { "Sign in" }
            a href="/register" id="nav-register" { "Create account" }
        },
        Nav::SignedIn {
            username,
            admin,
            csrf,
        } => html! {
            a href="/dashboard" { "Dashboard" }
            @if *admin { a href="/admin" { "Admin" } }
            a href="/notes" id="nav-notes" { "Notes" }
            a href="/settings" { "Settings" }
            span.muted.small { (username) }
            form method="post" action="/logout" id="logout-form" {
                (csrf_input(csrf))
                button type="submit" class="link" id="logout" { "Sign out" }
            }
        },
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · session-core login app" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    nav.bar {
                        a.brand href="/" { span.logo {} "session-core" }
                        (links)
                    }
                }
                main { (main) }
            }
        }
    }
    .into_string()
}

/// The hidden CSRF field of a form.
fn csrf_input(csrf: &str) -> Markup {
    html! { input type="hidden" name=(csrf::FIELD) value=(csrf); }
}

/// A notice or error paragraph, if there is a text.
fn message(class: &str, text: Option<&str>) -> Markup {
    html! { @if let Some(text) = text { p class=(class) role="status" { (text) } } }
}

/// The hidden `next` field, if there is one.
fn next_input(next: Option<&str>) -> Markup {
    html! { @if let Some(next) = next { input type="hidden" name="next" value=(next); } }
}

/// `/`: what the app is, and where to go.
pub fn home(nav: &Nav, signed_out: bool) -> String {
    let main = html! {
        (message("notice", signed_out.then_some("You have been signed out.")))
        section.card {
            h1 { "A login app on session-core" }
            p {
                "Users live in an SQLite file, passwords are hashed with argon2id, and the session \
                 is a signed cookie checked by attribute macros: "
                code { "#[login_required]" } " on the dashboard, "
                code { "#[require_role(\"admin\")]" } " on the admin page, "
                code { "#[authorize(authenticated, fresh = 300)]" } " on the settings and a resource policy on the notes."
            }
            p.muted { "The first account created becomes the admin." }
            @match nav {
                Nav::Anonymous => {
                    a.button href="/register" { "Create an account" }
                    " "
                    a.button.secondary href="/login" { "Sign in" }
                }
                Nav::SignedIn { .. } => a.button href="/dashboard" { "Go to your dashboard" },
            }
        }
    };
    layout("Welcome", nav, main)
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
    let main = html! {
        section.card.narrow {
            h1 { "Sign in" }
            (message("notice", page.notice))
            (message("error", page.error))
            form method="post" action="/login" id="login-form" {
                (csrf_input(page.csrf))
                (next_input(page.next))
                label for="username" { "Username" }
                input type="text" id="username" name="username" value=(page.username) autocomplete="username" required autofocus;
                label for="password" { "Password" }
                input type="password" id="password" name="password" autocomplete="current-password" required;
                label.check { input type="checkbox" name="remember" value="on" id="remember"; " Remember me on this device" }
                button type="submit" id="submit" { "Sign in" }
            }
            p.muted.small { "No account yet? " a href="/register" { "Create one" } "." }
        }
    };
    layout("Sign in", &Nav::Anonymous, main)
}

/// `/register`.
pub fn register(csrf: &str, username: &str, error: Option<&str>) -> String {
    let main = html! {
        section.card.narrow {
            h1 { "Create an account" }
            p.muted.small {
                "3–32 letters, digits, " code { "." } ", " code { "_" } " or " code { "-" }
                "; a password of at least " (super::accounts::MIN_PASSWORD_LEN) " characters."
            }
            (message("error", error))
            form method="post" action="/register" id="register-form" {
                (csrf_input(csrf))
                label for="username" { "Username" }
                input type="text" id="username" name="username" value=(username) autocomplete="username" required autofocus;
                label for="password" { "Password" }
                input type="password" id="password" name="password" autocomplete="new-password" required;
                label for="confirm_password" { "Password again" }
                input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" required;
                button type="submit" id="submit" { "Create account" }
            }
            p.muted.small { "Already registered? " a href="/login" { "Sign in" } "." }
        }
    };
    layout("Create an account", &Nav::Anonymous, main)
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

fn role_badge(role: Role) -> Markup {
    let class = match role {
        Role::Admin => "badge admin",
        Role::Member => "badge",
    };
    html! { span class=(class) { (role.as_str()) } }
}

/// `/dashboard`.
pub fn dashboard(nav: &Nav, user: &User, facts: &SessionFacts) -> String {
    let main = html! {
        section.card {
            h1 id="welcome" { "Welcome, " (user.username) " " (role_badge(user.role)) }
            p.muted { "Member since " (utc(user.created_at)) "." }
            dl {
                dt { "Signed in" } dd { (utc(facts.signed_in_at)) }
                dt { "Session ends if unused" } dd { (utc(facts.expires_at)) }
                dt { "Session id" } dd { code { (facts.session_id) "…" } }
                dt { "Cookie" }
                dd { (if facts.remembered { "remembered on this device" } else { "until the browser closes" }) }
            }
        }
        div.tiles {
            a.tile href="/admin" id="admin-link" {
                strong { "Admin" }
                @if user.role == Role::Admin {
                    span.muted.small { "Every account, for the " code { "admin" } " role only." }
                } @else {
                    span.muted.small { "Not for you: try it to see the 403 page." }
                }
            }
            a.tile href="/notes" id="notes-link" {
                strong { "Notes" }
                span.muted.small { "Yours only; editors and admins see them all." }
            }
            a.tile href="/settings" {
                strong { "Sensitive settings" }
                span.muted.small { "Asks for your password again after 5 minutes." }
            }
        }
    };
    layout("Dashboard", nav, main)
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
    let main = html! {
        section.card {
            h1 id="admin-title" { "Admin: all accounts" }
            p.muted {
                "Only users with the " code { "admin" } " role get this page. The last admin can \
                 neither lose the role nor be deleted. Editors read and edit every note."
            }
            (message("notice", page.notice))
            (message("error", page.error))
            table id="users" {
                thead { tr { th { "#" } th { "Username" } th { "Role" } th { "Registered" } th { "Actions" } } }
                tbody {
                    @for user in page.users {
                        tr {
                            td { (user.id) }
                            td {
                                (user.username)
                                @if user.uid == page.me { " " span.muted.small { "(you)" } }
                            }
                            td {
                                (role_badge(user.role))
                                @if user.editor { " " span.badge { "editor" } }
                            }
                            td { (utc(user.created_at)) }
                            td { (account_actions(page.csrf, user)) }
                        }
                    }
                }
            }
        }
    };
    layout("Admin", nav, main)
}

/// The sessions section of `/settings`: the account's sessions, or why they cannot be shown.
pub type SessionList = Result<Vec<ActiveSession>, String>;

/// One row of the sessions table: device, address, times, and "this device" or an End form.
fn session_row(csrf: &str, n: usize, session: &ActiveSession) -> Markup {
    html! {
        tr {
            td { (session.device) }
            td { (session.address.as_deref().unwrap_or("unknown")) }
            td { (utc(session.started)) }
            td { (utc(session.refreshed)) }
            td {
                @if session.current {
                    span.badge id="this-device" { "this device" }
                } @else {
                    form method="post" action="/settings/sessions/end" class="inline" {
                        (csrf_input(csrf))
                        input type="hidden" name="session" value=(session.id);
                        button type="submit" class="small danger" id={"end-" (n)} { "End" }
                    }
                }
            }
        }
    }
}

fn sessions_section(csrf: &str, sessions: &SessionList) -> Markup {
    html! {
        section.card {
            h2 { "Your sessions" }
            p.muted.small { "Every browser signed in to your account. Ending one signs it out at once." }
            @match sessions {
                Ok(list) => table id="sessions" {
                    thead { tr { th { "Device" } th { "Address" } th { "Signed in" } th { "Last refreshed" } th {} } }
                    tbody { @for (n, session) in list.iter().enumerate() { (session_row(csrf, n, session)) } }
                },
                Err(why) => (message("error", Some(why))),
            }
        }
    }
}

/// `/settings`: the password form, and the account's sessions.
pub fn settings(
    nav: &Nav,
    csrf: &str,
    sessions: &SessionList,
    notice: Option<&str>,
    error: Option<&str>,
) -> String {
    let main = html! {
        section.card.narrow {
            h1 { "Sensitive settings" }
            p.muted.small { "This page needs a sign-in from the last 5 minutes." }
            (message("notice", notice))
            (message("error", error))
            form method="post" action="/settings" id="password-form" {
                (csrf_input(csrf))
                label for="current_password" { "Current password" }
                input type="password" id="current_password" name="current_password" autocomplete="current-password" required;
                label for="new_password" { "New password" }
                input type="password" id="new_password" name="new_password" autocomplete="new-password" required;
                label for="confirm_password" { "New password again" }
                input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" required;
                button type="submit" id="submit" { "Change password" }
            }
        }
        (sessions_section(csrf, sessions))
    };
    layout("Settings", nav, main)
}

/// `/reauth`: the signed-in user confirms their password.
pub fn reauth(
    nav: &Nav,
    csrf: &str,
    username: &str,
    next: Option<&str>,
    error: Option<&str>,
) -> String {
    let main = html! {
        section.card.narrow {
            h1 { "Confirm it's you" }
            p.notice { "Please enter your password again to continue, " (username) "." }
            (message("error", error))
            form method="post" action="/reauth" id="reauth-form" {
                (csrf_input(csrf))
                (next_input(next))
                label for="password" { "Password" }
                input type="password" id="password" name="password" autocomplete="current-password" required autofocus;
                button type="submit" id="submit" { "Continue" }
            }
        }
    };
    layout("Confirm your password", nav, main)
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
    layout("Notes", nav, main)
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
    layout(&note.title, nav, main)
}

/// An error page (403, 404, 500) with a way back.
pub fn error(nav: &Nav, status: u16, title: &str, explanation: &str) -> String {
    let main = html! {
        section.card.narrow id="error-page" {
            p.big { (status) }
            h1 { (title) }
            p { (explanation) }
            a.button.secondary href="/dashboard" { "Back to the dashboard" }
        }
    };
    layout(title, nav, main)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let row = session_row("t", 0, &session).into_string();
        for raw in ["<b>", "<i>", "<u>"] {
            assert!(!row.contains(raw), "{raw} leaked into {row}");
        }
        assert!(row.contains(r#"value="&quot;&gt;&lt;b&gt;""#), "{row}");
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
        let nav = Nav::SignedIn {
            username: "<u>".into(),
            admin: false,
            csrf: "\"x".into(),
        };
        let page = error(&nav, 404, "<t>", "<e>");
        for raw in ["<u>", "<t>", "<e>", "\"x"] {
            assert!(!page.contains(raw), "{raw} leaked into {page}");
        }
    }
}
