//! The route handlers. Guards are the attribute macros; every form post checks its CSRF token
//! before it reads or changes anything else, and every form that hashes or checks a password
//! asks its throttle next (see [`super::Throttles`]).

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse, ResponseError as _,
};
use serde::Deserialize;
use session_core::{
    csrf,
    events::SecurityEvent,
    prelude::*,
    revocation::RevocationError,
    safe_next,
    throttle::{wait_text, ThrottleError, ThrottleErrorKind},
};

use super::{
    accounts::{check_policy, ChangeRefused, RegisterRefused},
    blocking,
    db::Refusal,
    hashing, html, nav,
    pages::{self, AdminPage, LoginPage, Nav, SessionFacts, SessionList},
    see_other,
    store::Account,
    AppError, AppState,
};

/// Session data key: the username, for the navigation bar.
const USERNAME: &str = "username";
/// Session data key: whether the user ticked "remember me" (kept when they re-authenticate).
const REMEMBER: &str = "remember";

pub(super) type Page = Result<HttpResponse, AppError>;

/// Refuses the request (403, nothing changed) unless `submitted` is the session's token.
pub(super) fn require_csrf(session: &Session, submitted: &str) -> Result<(), AppError> {
    if csrf::verify(session, submitted) {
        Ok(())
    } else {
        Err(AppError::Csrf)
    }
}

/// Signs `account` in (a new session id, bound to its password hash), remembering the username
/// for the pages, and gives the session a new CSRF token so no token seen before the login is
/// accepted after it. The role is not stored: guards read it from the database per request.
fn sign_in(session: &Session, account: &Account, remember: bool) -> Result<(), AppError> {
    let user = &account.user;
    session.login(
        Login::user(account)
            .data(USERNAME, &user.username)
            .data(REMEMBER, remember)
            .remember(remember),
    )?;
    csrf::rotate(session)?;
    Ok(())
}

/// The peer address, for security events.
fn client_address(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|addr| addr.ip().to_string())
}

/// The answer to a throttled form: `form` drawn again with the wait in its error line (429,
/// `Retry-After`), or the throttle's own 503 page when its store is down.
fn throttled(refused: &ThrottleError, form: impl FnOnce(&str) -> String) -> HttpResponse {
    if refused.kind() != ThrottleErrorKind::TooManyAttempts {
        return refused.error_response();
    }
    let wait = refused.retry_after();
    let message = format!(
        "Too many attempts. Please wait {} and try again.",
        wait_text(wait)
    );
    let mut res = html(StatusCode::TOO_MANY_REQUESTS, form(&message));
    res.headers_mut()
        .insert(header::RETRY_AFTER, wait.as_secs().into());
    res
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[derive(Debug, Deserialize)]
pub(super) struct HomeQuery {
    signed_out: Option<String>,
}

#[public]
pub(super) async fn home(session: Session, query: web::Query<HomeQuery>) -> Page {
    let nav = nav(&session, session.user().as_ref())?;
    let signed_out = query.signed_out.is_some() && matches!(nav, Nav::Anonymous);
    Ok(html(StatusCode::OK, pages::home(&nav, signed_out)))
}

pub(super) async fn not_found(session: Session) -> Page {
    let nav = nav(&session, session.user().as_ref())?;
    let page = pages::error(&nav, 404, "Not found", "There is no page at this address.");
    Ok(html(StatusCode::NOT_FOUND, page))
}

// ---- registration ----------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RegisterForm {
    csrf_token: String,
    username: String,
    password: String,
    confirm_password: String,
}

#[skip_if_authenticated(redirect = "/dashboard")]
pub(super) async fn register_form(session: Session) -> Page {
    let csrf = csrf::token(&session)?;
    Ok(html(StatusCode::OK, pages::register(&csrf, "", None)))
}

#[public]
pub(super) async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<RegisterForm>,
) -> Page {
    require_csrf(&session, &form.csrf_token)?;
    let RegisterForm {
        csrf_token,
        username,
        password,
        confirm_password,
    } = form.into_inner();
    // Every registration post counts against the address, whatever becomes of it.
    let counted = state.throttles().register().check_address(&req).await;
    if let Err(refused) = counted {
        return Ok(throttled(&refused, |error| {
            pages::register(&csrf_token, &username, Some(error))
        }));
    }
    let name = username.clone();
    let created = hashing(&state, move |state| {
        match state
            .accounts()
            .register(&name, &password, &confirm_password)?
        {
            Ok(user) => Ok(Ok(state.db().account(&user.uid)?)),
            Err(refused) => Ok(Err(refused)),
        }
    })
    .await?;
    match created {
        Ok(Some(account)) => {
            let user = &account.user;
            tracing::info!(user = %user.username, role = user.role.as_str(), "registered");
            sign_in(&session, &account, false)?;
            Ok(see_other("/dashboard"))
        }
        Ok(None) => Err(AppError::Internal(
            "the new account vanished before sign-in".into(),
        )),
        Err(refused) => {
            let status = match refused {
                RegisterRefused::UsernameTaken => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let page = pages::register(&csrf_token, &username, Some(&refused.to_string()));
            Ok(html(status, page))
        }
    }
}

// ---- login and logout ------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub(super) struct LoginQuery {
    next: Option<String>,
}

#[skip_if_authenticated(redirect = "/dashboard")]
pub(super) async fn login_form(session: Session, query: web::Query<LoginQuery>) -> Page {
    let csrf = csrf::token(&session)?;
    let next = query.next.as_deref().and_then(safe_next);
    let page = pages::login(&LoginPage {
        csrf: &csrf,
        next,
        username: "",
        error: None,
        notice: next.map(|_| "Please sign in to continue."),
    });
    Ok(html(StatusCode::OK, page))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LoginForm {
    csrf_token: String,
    username: String,
    password: String,
    remember: Option<String>,
    next: Option<String>,
}

#[public]
pub(super) async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<LoginForm>,
) -> Page {
    require_csrf(&session, &form.csrf_token)?;
    let LoginForm {
        csrf_token,
        username,
        password,
        remember,
        next,
    } = form.into_inner();
    let next = next.as_deref().and_then(safe_next);
    // Before the password is checked, and alike for known and unknown names.
    let attempt = match state.throttles().sign_in().check(&req, &username).await {
        Ok(attempt) => attempt,
        Err(refused) => {
            return Ok(throttled(&refused, |error| {
                pages::login(&LoginPage {
                    csrf: &csrf_token,
                    next,
                    username: &username,
                    error: Some(error),
                    notice: None,
                })
            }))
        }
    };
    let name = username.clone();
    // The account comes with the hash the password was verified against: the session is
    // bound to that credential, not to one a concurrent password change wrote meanwhile.
    let account = hashing(&state, move |state| {
        state.accounts().login(&name, &password)
    })
    .await?;
    let Some(account) = account else {
        attempt.failed();
        session.report(SecurityEvent::sign_in_failed(
            &username,
            client_address(&req),
        ));
        let page = pages::login(&LoginPage {
            csrf: &csrf_token,
            next,
            username: &username,
            error: Some("Wrong username or password."),
            notice: None,
        });
        return Ok(html(StatusCode::UNAUTHORIZED, page));
    };
    attempt.succeeded().await;
    sign_in(&session, &account, remember.is_some())?;
    Ok(see_other(next.unwrap_or("/dashboard")))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CsrfForm {
    csrf_token: String,
}

#[public]
pub(super) async fn logout(session: Session, form: web::Form<CsrfForm>) -> Page {
    require_csrf(&session, &form.csrf_token)?;
    session.logout();
    Ok(see_other("/?signed_out=1"))
}

// ---- signed-in pages -------------------------------------------------------------------------

#[login_required]
pub(super) async fn dashboard(session: Session, user: AuthUser, me: Current<Account>) -> Page {
    let facts = SessionFacts {
        signed_in_at: unix(user.authenticated_at()),
        expires_at: unix(user.expires_at()),
        session_id: user.session_id().chars().take(8).collect(),
        remembered: user.get::<bool>(REMEMBER)?.unwrap_or(true),
    };
    let nav = nav(&session, Some(&user))?;
    Ok(html(
        StatusCode::OK,
        pages::dashboard(&nav, &me.user, &facts),
    ))
}

// ---- administration --------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub(super) struct AdminQuery {
    done: Option<String>,
}

/// What the admin page says after a successful action (`/admin?done=..`): fixed texts, so the
/// address cannot put words on the page.
fn admin_notice(done: &str) -> Option<&'static str> {
    match done {
        "granted" => Some("The account is now an admin."),
        "revoked" => Some("The account is no longer an admin."),
        "deleted" => Some("The account was deleted."),
        "editor-granted" => Some("The account is now an editor."),
        "editor-revoked" => Some("The account is no longer an editor."),
        _ => None,
    }
}

#[require_role("admin")]
pub(super) async fn admin(
    state: web::Data<AppState>,
    session: Session,
    user: AuthUser,
    query: web::Query<AdminQuery>,
) -> Page {
    let notice = query.done.as_deref().and_then(admin_notice);
    admin_page(&state, &session, &user, StatusCode::OK, notice, None).await
}

/// The admin page with every account, a notice or an error, and `status`.
async fn admin_page(
    state: &web::Data<AppState>,
    session: &Session,
    user: &AuthUser,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
) -> Page {
    let users = blocking(state, |state| state.db().users()).await?;
    let csrf = csrf::token(session)?;
    let nav = nav(session, Some(user))?;
    let page = AdminPage {
        csrf: &csrf,
        me: user.id(),
        users: &users,
        notice,
        error,
    };
    Ok(html(status, pages::admin(&nav, &page)))
}

/// The admin page again, saying why an action was refused (nothing was changed).
async fn admin_refused(
    state: &web::Data<AppState>,
    session: &Session,
    user: &AuthUser,
    refusal: Refusal,
) -> Page {
    let (status, error) = match refusal {
        Refusal::LastAdmin => (
            StatusCode::CONFLICT,
            "Refused: this is the last admin. Make another account admin first.",
        ),
        Refusal::NoSuchUser => (
            StatusCode::NOT_FOUND,
            "There is no such account (any more).",
        ),
    };
    admin_page(state, session, user, status, None, Some(error)).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RoleForm {
    csrf_token: String,
    /// `grant` or `revoke`.
    action: String,
}

impl RoleForm {
    /// `Some(true)` for `grant`, `Some(false)` for `revoke`, `None` for anything else.
    fn grant(&self) -> Option<bool> {
        match self.action.as_str() {
            "grant" => Some(true),
            "revoke" => Some(false),
            _ => None,
        }
    }
}

/// The admin page again, 422, for a role form whose `action` is neither `grant` nor `revoke`.
async fn unknown_action(state: &web::Data<AppState>, session: &Session, user: &AuthUser) -> Page {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    admin_page(state, session, user, status, None, Some("Unknown action.")).await
}

/// `POST /admin/users/{uid}/admin`: makes the account an admin (`action=grant`) or a member
/// (`action=revoke`). The account's sessions see the new role on their next request.
#[require_role("admin")]
pub(super) async fn change_role(
    state: web::Data<AppState>,
    session: Session,
    user: AuthUser,
    uid: web::Path<String>,
    form: web::Form<RoleForm>,
) -> Page {
    require_csrf(&session, &form.csrf_token)?;
    let Some(grant) = form.grant() else {
        return unknown_action(&state, &session, &user).await;
    };
    let (by, uid) = (user.id().to_owned(), uid.into_inner());
    let changed = blocking(&state, move |state| {
        if grant {
            state.accounts().grant_admin(&by, &uid)
        } else {
            state.accounts().revoke_admin(&by, &uid)
        }
    })
    .await?;
    match changed {
        Ok(_) if grant => Ok(see_other("/admin?done=granted")),
        Ok(_) => Ok(see_other("/admin?done=revoked")),
        Err(refusal) => admin_refused(&state, &session, &user, refusal).await,
    }
}

/// `POST /admin/users/{uid}/editor`: gives the account the `editor` role (`action=grant`) or
/// takes it away (`action=revoke`); its sessions see the change on their next request.
#[require_role("admin")]
pub(super) async fn change_editor(
    state: web::Data<AppState>,
    session: Session,
    user: AuthUser,
    uid: web::Path<String>,
    form: web::Form<RoleForm>,
) -> Page {
    require_csrf(&session, &form.csrf_token)?;
    let Some(grant) = form.grant() else {
        return unknown_action(&state, &session, &user).await;
    };
    let uid = uid.into_inner();
    match blocking(&state, move |state| state.db().set_editor(&uid, grant)).await? {
        Some(_) if grant => Ok(see_other("/admin?done=editor-granted")),
        Some(_) => Ok(see_other("/admin?done=editor-revoked")),
        None => admin_refused(&state, &session, &user, Refusal::NoSuchUser).await,
    }
}

/// `POST /admin/users/{uid}/delete`: deletes the account. An admin deleting their own account
/// (allowed while another admin remains) is signed out.
#[require_role("admin")]
pub(super) async fn delete_account(
    state: web::Data<AppState>,
    session: Session,
    user: AuthUser,
    uid: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Page {
    require_csrf(&session, &form.csrf_token)?;
    let (by, uid) = (user.id().to_owned(), uid.into_inner());
    let deleted = blocking(&state, move |state| {
        state.accounts().delete_account(&by, &uid)
    })
    .await?;
    match deleted {
        Ok(deleted) if deleted.uid == user.id() => {
            session.logout();
            Ok(see_other("/?signed_out=1"))
        }
        Ok(_) => Ok(see_other("/admin?done=deleted")),
        Err(refusal) => admin_refused(&state, &session, &user, refusal).await,
    }
}

// ---- sensitive settings and re-authentication ------------------------------------------------

#[derive(Debug, Deserialize)]
pub(super) struct SettingsQuery {
    changed: Option<String>,
    ended: Option<String>,
}

/// The account's sessions for the settings page, or what to say instead.
async fn session_list(session: &Session) -> SessionList {
    session.sessions().await.map_err(|e| {
        tracing::error!(error = %e, "sessions not listed");
        "Your sessions cannot be listed right now. Please try again.".to_owned()
    })
}

// Anonymous visitors get the usual sign-in redirect from `login_required`; signed-in users whose
// sign-in is older than 5 minutes are sent to confirm their password (`/reauth?next=/settings`).
#[login_required]
#[authorize(authenticated, fresh = 300)]
pub(super) async fn settings(
    session: Session,
    user: AuthUser,
    query: web::Query<SettingsQuery>,
) -> Page {
    let csrf = csrf::token(&session)?;
    let nav = nav(&session, Some(&user))?;
    let notice = if query.changed.is_some() {
        Some("Your password was changed.")
    } else if query.ended.is_some() {
        Some("The session was ended: that browser is signed out.")
    } else {
        None
    };
    let sessions = session_list(&session).await;
    Ok(html(
        StatusCode::OK,
        pages::settings(&nav, &csrf, &sessions, notice, None),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct EndSessionForm {
    csrf_token: String,
    /// The id of the session to end.
    session: String,
}

/// Ends one of the account's sessions (the settings page's End buttons). Only a session of the
/// signed-in account can be ended (`Session::end_session` looks it up in the account's own list);
/// ending this browser's own session signs it out.
#[login_required]
#[authorize(authenticated, fresh = 300)]
pub(super) async fn end_session(
    session: Session,
    user: AuthUser,
    form: web::Form<EndSessionForm>,
) -> Page {
    require_csrf(&session, &form.csrf_token)?;
    let own = form.session == user.session_id();
    match session.end_session(&form.session).await {
        Ok(()) if own => Ok(see_other("/?signed_out=1")),
        Ok(()) => {
            tracing::info!(user_id = %user.id(), "session ended from the settings page");
            Ok(see_other("/settings?ended=1"))
        }
        Err(e) => {
            let (status, error) = match e {
                RevocationError::UnknownSession => {
                    (StatusCode::NOT_FOUND, "That session has already ended.")
                }
                e => {
                    tracing::error!(error = %e, "session not ended");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The session could not be ended right now. Please try again.",
                    )
                }
            };
            let csrf = csrf::token(&session)?;
            let nav = nav(&session, Some(&user))?;
            let sessions = session_list(&session).await;
            let page = pages::settings(&nav, &csrf, &sessions, None, Some(error));
            Ok(html(status, page))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PasswordForm {
    csrf_token: String,
    current_password: String,
    new_password: String,
    confirm_password: String,
}

#[login_required]
#[authorize(authenticated, fresh = 300)]
// Six extractors of its own; the two guard macros add one each.
#[allow(clippy::too_many_arguments)]
pub(super) async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    user: AuthUser,
    me: Current<Account>,
    form: web::Form<PasswordForm>,
) -> Page {
    require_csrf(&session, &form.csrf_token)?;
    let PasswordForm {
        csrf_token,
        current_password,
        new_password,
        confirm_password,
    } = form.into_inner();
    let sessions = session_list(&session).await;
    let refuse = |status, error: &str| -> Page {
        let nav = nav(&session, Some(&user))?;
        let page = pages::settings(&nav, &csrf_token, &sessions, None, Some(error));
        Ok(html(status, page))
    };
    // The policy first: it costs no hashing and tries no password, so it counts for nothing.
    if let Err(problem) = check_policy(&new_password, &confirm_password) {
        let refused = ChangeRefused::Password(problem).to_string();
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, &refused);
    }
    let account = me.user.clone();
    let throttle = state.throttles().sign_in();
    let attempt = match throttle.check(&req, &account.username).await {
        Ok(attempt) => attempt,
        Err(refused) => {
            let nav = nav(&session, Some(&user))?;
            return Ok(throttled(&refused, |error| {
                pages::settings(&nav, &csrf_token, &sessions, None, Some(error))
            }));
        }
    };
    let changed = hashing(&state, move |state| {
        state.accounts().change_password(
            &account,
            &current_password,
            &new_password,
            &confirm_password,
        )
    })
    .await?;
    match changed {
        Ok(_updated) => {}
        Err(ChangeRefused::ChangedMeanwhile) => {
            // The current password was right: no failed guess to count.
            let refused = ChangeRefused::ChangedMeanwhile.to_string();
            return refuse(StatusCode::CONFLICT, &refused);
        }
        Err(refused) => {
            attempt.failed();
            let status = match refused {
                ChangeRefused::WrongPassword => {
                    tracing::warn!(user_id = %user.id(), "password change refused: wrong current password");
                    StatusCode::UNAUTHORIZED
                }
                ChangeRefused::Password(_) | ChangeRefused::ChangedMeanwhile => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
            };
            return refuse(status, &refused.to_string());
        }
    };
    attempt.succeeded().await;
    // The new hash is the new fingerprint: this session is re-bound to it (with a new id), every
    // other session of the account ends on its next request. Then a new CSRF token.
    session
        .sign_out_other_devices()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    csrf::rotate(&session)?;
    tracing::info!(user_id = %user.id(), "password changed");
    Ok(see_other("/settings?changed=1"))
}

#[login_required]
pub(super) async fn reauth_form(
    session: Session,
    user: AuthUser,
    query: web::Query<LoginQuery>,
) -> Page {
    let csrf = csrf::token(&session)?;
    let nav = nav(&session, Some(&user))?;
    let username = user.get::<String>(USERNAME)?.unwrap_or_default();
    let next = query.next.as_deref().and_then(safe_next);
    Ok(html(
        StatusCode::OK,
        pages::reauth(&nav, &csrf, &username, next, None),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ReauthForm {
    csrf_token: String,
    password: String,
    next: Option<String>,
}

#[login_required]
pub(super) async fn reauth(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    user: AuthUser,
    me: Current<Account>,
    form: web::Form<ReauthForm>,
) -> Page {
    require_csrf(&session, &form.csrf_token)?;
    let ReauthForm {
        csrf_token,
        password,
        next,
    } = form.into_inner();
    let next = next.as_deref().and_then(safe_next);
    let username = me.user.username.clone();
    let refuse = |status, error: &str| -> Page {
        let nav = nav(&session, Some(&user))?;
        let page = pages::reauth(&nav, &csrf_token, &username, next, Some(error));
        Ok(html(status, page))
    };
    let attempt = match state.throttles().sign_in().check(&req, &username).await {
        Ok(attempt) => attempt,
        Err(refused) => {
            let nav = nav(&session, Some(&user))?;
            return Ok(throttled(&refused, |error| {
                pages::reauth(&nav, &csrf_token, &username, next, Some(error))
            }));
        }
    };
    let uid = user.id().to_owned();
    let checked = hashing(&state, move |state| {
        state.accounts().confirm_password(&uid, &password)
    })
    .await?;
    let Some(account) = checked else {
        attempt.failed();
        session.report(SecurityEvent::sign_in_failed(
            user.id(),
            client_address(&req),
        ));
        return refuse(StatusCode::UNAUTHORIZED, "Wrong password.");
    };
    attempt.succeeded().await;
    let remember = user.get::<bool>(REMEMBER)?.unwrap_or(true);
    sign_in(&session, &account, remember)?;
    Ok(see_other(next.unwrap_or("/settings")))
}

#[cfg(test)]
mod tests {
    use super::super::db::Role;

    #[test]
    fn roles_in_the_session_are_the_database_role_names() {
        // `#[require_role("admin")]` above must name what `sign_in` stores.
        assert_eq!(Role::Admin.as_str(), "admin");
    }
}
