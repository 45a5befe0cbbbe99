//! What a rule means over its atoms, found by evaluating it for every truth assignment: a rule
//! that no signed-in user can meet, or one that every signed-in user meets although it names
//! roles or checks, is a mistake the compiler should report.
//!
//! The atoms are the distinct roles and checks of the rule. Each is a free variable: a user may
//! hold any set of roles and a check may answer either way. Two atoms are the same only when
//! they are written the same (`role = "a"` twice, `check = auth::f` twice); `role = Role::A` and
//! `role = "a"` may name the same role at run time, but they count as two atoms, so the verdict
//! can miss such a contradiction but never reports one that is not there. `authenticated` is
//! true: rules are only evaluated for signed-in users (anonymous ones are refused before).
//! `fresh` is not part of the rule; it is a further condition the user can always meet, so it
//! changes neither verdict.

use std::collections::BTreeMap;

use crate::rule::{Role, RuleExpr};

/// Rules with more distinct atoms than this are not evaluated (2^12 = 4096 assignments).
pub(crate) const MAX_ATOMS: usize = 12;

/// What a rule means for signed-in users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Meaning {
    /// No assignment of the atoms meets it.
    Never,
    /// Every assignment meets it.
    Always,
    /// Some assignments meet it and some do not: it decides something.
    Depends,
    /// Over [`MAX_ATOMS`] atoms: not evaluated.
    Unknown,
}

/// The atoms a rule names.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Names {
    pub(crate) roles: bool,
    pub(crate) checks: bool,
}

/// One atom, by how it is written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Atom {
    Role(String),
    TypedRole(String),
    Permission(String),
    TypedPermission(String),
    Check(String),
    Policy(String),
}

/// The rule with its atoms numbered.
enum Node {
    True,
    Atom(usize),
    Any(Vec<Node>),
    All(Vec<Node>),
    Not(Box<Node>),
}

/// The meaning of `rule`, and which kinds of atoms it names.
pub(crate) fn meaning(rule: &RuleExpr) -> (Meaning, Names) {
    let mut atoms = BTreeMap::new();
    let node = Node::of(rule, &mut atoms);
    let names = Names {
        roles: atoms
            .keys()
            .any(|atom| !matches!(atom, Atom::Check(_) | Atom::Policy(_))),
        checks: atoms
            .keys()
            .any(|atom| matches!(atom, Atom::Check(_) | Atom::Policy(_))),
    };
    if atoms.len() > MAX_ATOMS {
        return (Meaning::Unknown, names);
    }
    let (mut met, mut unmet) = (false, false);
    for assignment in 0..1u32 << atoms.len() {
        match node.holds(assignment) {
            true => met = true,
            false => unmet = true,
        }
        if met && unmet {
            return (Meaning::Depends, names);
        }
    }
    let meaning = match met {
        true => Meaning::Always,
        false => Meaning::Never,
    };
    (meaning, names)
}

impl Node {
    /// Numbers the atoms of `rule` in `atoms`, the same atom always getting the same number.
    fn of(rule: &RuleExpr, atoms: &mut BTreeMap<Atom, usize>) -> Self {
        let mut atom = |atom: Atom| {
            let next = atoms.len();
            Node::Atom(*atoms.entry(atom).or_insert(next))
        };
        match rule {
            RuleExpr::Authenticated(_) => Node::True,
            RuleExpr::Role(_, Role::Name(name)) => atom(Atom::Role(name.value())),
            RuleExpr::Role(_, Role::Typed(path)) => atom(Atom::TypedRole(tokens(path))),
            RuleExpr::Permission(_, Role::Name(name)) => atom(Atom::Permission(name.value())),
            RuleExpr::Permission(_, Role::Typed(path)) => atom(Atom::TypedPermission(tokens(path))),
            RuleExpr::Check(_, path) => atom(Atom::Check(tokens(path))),
            RuleExpr::Policy(_, path) => atom(Atom::Policy(tokens(path))),
            RuleExpr::Any(_, _, rules) => {
                Node::Any(rules.iter().map(|r| Node::of(r, atoms)).collect())
            }
            RuleExpr::All(_, _, rules) => {
                Node::All(rules.iter().map(|r| Node::of(r, atoms)).collect())
            }
            RuleExpr::Not(_, _, rule) => Node::Not(Box::new(Node::of(rule, atoms))),
        }
    }

    /// The value under `assignment`, whose bit `i` is the value of atom `i`.
    fn holds(&self, assignment: u32) -> bool {
        match self {
            Node::True => true,
            Node::Atom(i) => assignment & (1 << i) != 0,
            Node::Any(nodes) => nodes.iter().any(|n| n.holds(assignment)),
            Node::All(nodes) => nodes.iter().all(|n| n.holds(assignment)),
            Node::Not(node) => !node.holds(assignment),
        }
    }
}

/// A path as written, spacing normalized, to tell atoms apart.
fn tokens(path: &syn::ExprPath) -> String {
    quote::quote!(#path).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meaning_of(text: &str) -> (Meaning, Names) {
        let rule: RuleExpr = syn::parse_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        meaning(&rule)
    }

    #[test]
    fn meanings() {
        use Meaning::*;
        let cases = [
            ("authenticated", Always),
            ("all(authenticated)", Always),
            ("not(not(authenticated))", Always),
            ("role = \"a\"", Depends),
            ("check = auth::f", Depends),
            ("not(role = \"a\")", Depends),
            ("all(role = \"a\", role = \"b\")", Depends),
            ("any(role = \"a\", role = \"b\")", Depends),
            ("all(role = \"a\", not(role = \"a\"))", Never),
            ("any(role = \"a\", not(role = \"a\"))", Always),
            ("not(authenticated)", Never),
            ("all(role = \"a\", not(authenticated))", Never),
            ("any(role = \"a\", authenticated)", Always),
            ("all(role = Role::A, not(role = Role::A))", Never),
            ("all(role = Role :: A, not(role = Role::A))", Never),
            // A typed role and a string may or may not be the same role: no verdict.
            ("all(role = Role::A, not(role = \"a\"))", Depends),
            ("all(role = Role::A, not(role = Role::B))", Depends),
            ("all(check = auth::f, not(check = auth::f))", Never),
            ("permission = \"p\"", Depends),
            ("all(permission = \"p\", not(permission = \"p\"))", Never),
            ("any(permission = \"p\", not(permission = \"p\"))", Always),
            // A role and a permission of the same name are different atoms.
            ("all(role = \"p\", not(permission = \"p\"))", Depends),
            ("all(permission = Perm::P, not(permission = \"p\"))", Depends),
            ("any(check = auth::f, not(check = auth::f))", Always),
            ("policy = notes::can_edit", Depends),
            ("all(policy = can_edit, not(policy = can_edit))", Never),
            ("any(policy = can_edit, not(policy = can_edit))", Always),
            // A check and a policy naming the same function are different atoms.
            ("all(check = can_edit, not(policy = can_edit))", Depends),
            ("any(permission = \"notes:edit\", policy = can_edit)", Depends),
            ("all(check = auth::f, not(check = crate::auth::f))", Depends),
            (
                "not(any(role = \"banned\", not(authenticated)))",
                Depends,
            ),
            (
                "all(any(role = \"a\", role = \"b\", authenticated), not(any(role = \"banned\", not(authenticated))))",
                Depends,
            ),
            (
                "any(all(role = \"a\", role = \"b\"), all(not(role = \"a\"), role = \"b\"), not(role = \"b\"))",
                Always,
            ),
            (
                "all(any(role = \"a\", role = \"b\"), not(role = \"a\"), not(role = \"b\"))",
                Never,
            ),
            (
                "any(role = \"admin\", all(role = \"editor\", not(role = \"suspended\")))",
                Depends,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(meaning_of(text).0, want, "{text}");
        }
    }

    #[test]
    fn names() {
        let cases = [
            ("authenticated", false, false),
            ("any(role = \"a\", not(role = \"a\"))", true, false),
            ("any(role = Role::A, not(check = f))", true, true),
            ("not(check = f)", false, true),
            ("any(permission = \"p\", policy = f)", true, true),
            ("not(policy = f)", false, true),
        ];
        for (text, roles, checks) in cases {
            assert_eq!(meaning_of(text).1, Names { roles, checks }, "{text}");
        }
    }

    /// Up to `MAX_ATOMS` distinct atoms are evaluated, beyond that the rule is left alone.
    #[test]
    fn atom_bound() {
        let contradiction = |atoms: usize| {
            let roles: Vec<String> = (0..atoms).map(|i| format!("role = \"r{i}\"")).collect();
            format!("all(not(authenticated), {})", roles.join(", "))
        };
        assert_eq!(meaning_of(&contradiction(MAX_ATOMS)).0, Meaning::Never);
        assert_eq!(
            meaning_of(&contradiction(MAX_ATOMS + 1)).0,
            Meaning::Unknown
        );
        // Repeated atoms count once.
        let repeated = format!(
            "all({}, not(role = \"r0\"))",
            vec!["role = \"r0\""; 40].join(", ")
        );
        assert_eq!(meaning_of(&repeated).0, Meaning::Never);
    }
}
