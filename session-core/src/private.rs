//! What macro-generated code calls. Not public API: names here may change in any release.

pub use std::sync::LazyLock;

pub use crate::{
    guard::{Guard, GuardSpec, Guarded},
    rule::{RoleName, Rule},
    user::AuthUser,
};
