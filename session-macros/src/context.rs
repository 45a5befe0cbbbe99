//! Where the attribute stands: whether the handler it is on is an associated function of an
//! `impl` or `trait` block.
//!
//! An attribute macro sees only its item, and a function without `self` looks the same at module
//! level and inside an `impl`. The expansion needs a struct beside the handler, which an `impl`
//! cannot hold, and the compiler's own errors for that are three misleading ones (a struct and an
//! impl "not supported in `impl`s", then a missing type with a suggestion to add a type
//! parameter). So, before expanding, the macro reads the handler's source file (the compiler
//! tells where it is) and looks for a function of this name carrying one of our attributes
//! inside an `impl` or `trait` block; if it finds one, and none at any other level, the
//! attribute answers with one error of its own.
//!
//! Whenever the answer is not certain (the tokens come from another macro, the file cannot be
//! read or parsed, the name is ambiguous), this says "not known" and the expansion goes on as
//! before: the check only ever replaces the compiler's errors by a clearer one, it never refuses a
//! handler the compiler would accept.

use std::{cell::RefCell, collections::HashMap, path::PathBuf, time::SystemTime};

use syn::{
    visit::{self, Visit},
    Attribute, Ident, ImplItemFn, ItemFn, TraitItemFn,
};

use crate::args::Kind;

/// Whether `name` (the handler's identifier, with its span from the source) is an associated
/// function: `Some(true)` only when the file shows it in an `impl` or `trait` block and nowhere
/// else.
pub(crate) fn is_associated_fn(name: &Ident) -> Option<bool> {
    if !proc_macro::is_available() {
        return None; // unit tests: no compiler to ask
    }
    let path = name.span().unwrap().local_file()?;
    let places = guarded_fns(path)?;
    let name = name.to_string();
    let mut found = places.iter().filter(|(n, _)| *n == name);
    let first = found.next()?;
    Some(first.1 && found.all(|(_, associated)| *associated))
}

type Places = Vec<(String, bool)>;

/// What a file held when it was read: its length and modification time, and its places (none if
/// it could not be parsed).
type Read = (u64, Option<SystemTime>, Option<Places>);

thread_local! {
    /// Per source file (and its length and modification time, so an edited file is read again
    /// by a long-lived macro server): the guarded functions it holds.
    static FILES: RefCell<HashMap<PathBuf, Read>> =
        RefCell::new(HashMap::new());
}

/// Every function in the file that carries one of our attributes: its name, and whether it sits
/// directly in an `impl` or `trait` block.
fn guarded_fns(path: PathBuf) -> Option<Places> {
    let meta = std::fs::metadata(&path).ok()?;
    let stamp = (meta.len(), meta.modified().ok());
    if let Some(places) = FILES.with(|files| {
        files
            .borrow()
            .get(&path)
            .filter(|(len, modified, _)| (*len, *modified) == stamp)
            .map(|(_, _, places)| places.clone())
    }) {
        return places;
    }
    let places = std::fs::read_to_string(&path)
        .ok()
        .and_then(|source| syn::parse_file(&source).ok())
        .map(|file| {
            let mut finder = Finder::default();
            finder.visit_file(&file);
            finder.places
        });
    FILES.with(|files| {
        files
            .borrow_mut()
            .insert(path, (stamp.0, stamp.1, places.clone()))
    });
    places
}

#[derive(Default)]
struct Finder {
    places: Places,
}

fn guarded(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|last| Kind::ALL.iter().any(|kind| last.ident == kind.name()))
    })
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_item_fn(&mut self, item: &'ast ItemFn) {
        if guarded(&item.attrs) {
            self.places.push((item.sig.ident.to_string(), false));
        }
        visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast ImplItemFn) {
        if guarded(&item.attrs) {
            self.places.push((item.sig.ident.to_string(), true));
        }
        visit::visit_impl_item_fn(self, item);
    }

    fn visit_trait_item_fn(&mut self, item: &'ast TraitItemFn) {
        if guarded(&item.attrs) {
            self.places.push((item.sig.ident.to_string(), true));
        }
        visit::visit_trait_item_fn(self, item);
    }
}
