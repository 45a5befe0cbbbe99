//! Notes, owned by the account that wrote them. The owner reads, edits and deletes; the `editor`
//! role reads and edits every note (permissions `notes:read`, `notes:edit`); `admin` includes
//! `editor` and may delete too (`notes:delete`). See [`super::authorization`].
//!
//! Every note route is guarded twice: `#[login_required]` first (anonymous visitors are sent to
//! sign in, as everywhere), then a rule with the [`owns_note`] policy and `status = 404`, so a
//! signed-in user who may not read a note gets exactly the answer of a note that does not exist,
//! and never its title or body. Deleting adds a third guard whose denial is a 403: an editor
//! sees the note, so hiding it from them would be pointless.

use actix_web::{http::StatusCode, web};
use serde::Deserialize;
use session_core::{csrf, prelude::*};

use super::{
    blocking,
    handlers::{require_csrf, Page},
    html, nav,
    pages::{self, NoteView},
    see_other, AppError, AppState,
};

/// Longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest body, in characters.
pub const MAX_BODY: usize = 20_000;

/// The signed-in user wrote note `{id}`. A note that does not exist has no owner: `false`, so
/// it answers like one the user may not see.
#[policy]
pub async fn owns_note(
    user: AuthUser,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<bool, AppError> {
    let id = *id;
    let owner = blocking(&state, move |state| state.db().note_owner(id)).await?;
    Ok(owner.as_deref() == Some(user.id()))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct NoteForm {
    csrf_token: String,
    title: String,
    body: String,
}

impl NoteForm {
    /// The trimmed title and the body, or why they are refused.
    fn checked(&self) -> Result<(String, String), &'static str> {
        let title = self.title.trim();
        if title.is_empty() {
            Err("A note needs a title.")
        } else if title.chars().count() > MAX_TITLE || self.body.chars().count() > MAX_BODY {
            Err("The title or the text is too long.")
        } else {
            Ok((title.to_owned(), self.body.clone()))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CsrfForm {
    csrf_token: String,
}

/// `GET /notes`: the user's own notes (never anyone else's) and a form to write one.
#[login_required]
pub(super) async fn list(state: web::Data<AppState>, session: Session, user: AuthUser) -> Page {
    list_page(&state, &session, &user, StatusCode::OK, None).await
}

async fn list_page(
    state: &web::Data<AppState>,
    session: &Session,
    user: &AuthUser,
    status: StatusCode,
    error: Option<&str>,
) -> Page {
    let owner = user.id().to_owned();
    let notes = blocking(state, move |state| state.db().notes_of(&owner)).await?;
    let nav = nav(session, Some(user))?;
    let csrf = csrf::token(session)?;
    Ok(html(status, pages::notes(&nav, &csrf, &notes, error)))
}

/// `POST /notes` (`title`, `body`): a new note owned by the user; 303 to `/notes/{id}`.
#[login_required]
pub(super) async fn create(
    state: web::Data<AppState>,
    session: Session,
    user: AuthUser,
    form: web::Form<NoteForm>,
) -> Page {
    require_csrf(&session, &form.csrf_token)?;
    let (title, body) = match form.checked() {
        Ok(fields) => fields,
        Err(error) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return list_page(&state, &session, &user, status, Some(error)).await;
        }
    };
    let owner = user.id().to_owned();
    let id = blocking(&state, move |state| {
        state.db().create_note(&owner, &title, &body)
    })
    .await?;
    Ok(see_other(&format!("/notes/{id}")))
}

/// `GET /notes/{id}`: the note, with the edit form for who may edit and the delete button for
/// who may delete.
#[login_required]
#[authorize(any(permission = "notes:read", policy = owns_note), status = 404)]
pub(super) async fn show(
    state: web::Data<AppState>,
    session: Session,
    user: AuthUser,
    id: web::Path<i64>,
) -> Page {
    note_page(&state, &session, &user, *id, StatusCode::OK, None).await
}

async fn note_page(
    state: &web::Data<AppState>,
    session: &Session,
    user: &AuthUser,
    id: i64,
    status: StatusCode,
    error: Option<&str>,
) -> Page {
    // Only an editor or admin gets here for a note that is gone: the same 404 as the guard's.
    let Some(note) = blocking(state, move |state| state.db().note(id)).await? else {
        return Err(AppError::NotFound);
    };
    let owner = note.owner == user.id();
    let view = NoteView {
        csrf: &csrf::token(session)?,
        can_edit: owner || user.has_permission("notes:edit"),
        can_delete: owner || user.has_permission("notes:delete"),
        note: &note,
        error,
    };
    let nav = nav(session, Some(user))?;
    Ok(html(status, pages::note(&nav, &view)))
}

/// `POST /notes/{id}/edit` (`title`, `body`): the owner, or an editor; 303 to the note.
#[login_required]
#[authorize(any(permission = "notes:edit", policy = owns_note), status = 404)]
pub(super) async fn edit(
    state: web::Data<AppState>,
    session: Session,
    user: AuthUser,
    id: web::Path<i64>,
    form: web::Form<NoteForm>,
) -> Page {
    require_csrf(&session, &form.csrf_token)?;
    let id = *id;
    let (title, body) = match form.checked() {
        Ok(fields) => fields,
        Err(error) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return note_page(&state, &session, &user, id, status, Some(error)).await;
        }
    };
    let updated = blocking(&state, move |state| {
        state.db().update_note(id, &title, &body)
    })
    .await?;
    match updated {
        true => Ok(see_other(&format!("/notes/{id}"))),
        false => Err(AppError::NotFound),
    }
}

/// `POST /notes/{id}/delete`: the owner, or an admin; an editor who is neither sees the note but
/// gets 403 here; 303 to `/notes`.
#[login_required]
#[authorize(any(permission = "notes:read", policy = owns_note), status = 404)]
#[authorize(any(permission = "notes:delete", policy = owns_note))]
pub(super) async fn delete(
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Page {
    require_csrf(&session, &form.csrf_token)?;
    let id = *id;
    match blocking(&state, move |state| state.db().delete_note(id)).await? {
        true => Ok(see_other("/notes")),
        false => Err(AppError::NotFound),
    }
}
