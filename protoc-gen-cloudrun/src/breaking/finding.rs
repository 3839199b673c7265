//! Findings as data: what a rule reports, before and after locations are resolved.

use super::model::Span;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// A breaking change: makes the check fail (exit code 100).
    Error,
    /// A deletion the deprecation policy allows: reported, but the check passes.
    Notice,
}

/// One reported change, located in the current input (or in none, for deletions of whole files
/// and packages, which buf prints as `<input>`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Finding {
    /// The rule ID, for example `FIELD_NO_DELETE`.
    pub rule: &'static str,
    /// The file path as users see it (buf's external path); `None` prints as `<input>`.
    pub path: Option<String>,
    /// Where in `path` the change is; `None` when there is no file.
    pub span: Option<Span>,
    /// The message, in buf's wording.
    pub message: String,
    /// Error or notice.
    pub severity: Severity,
}

impl Finding {
    /// The order buf prints in: path (no path first), start line, start column, rule, message,
    /// end line, end column.
    pub(crate) fn sort_key(&self) -> impl Ord + '_ {
        let span = self.span.unwrap_or(Span {
            start_line: 0,
            start_column: 0,
            end_line: 0,
            end_column: 0,
        });
        (
            self.path.is_some(),
            self.path.as_deref().unwrap_or(""),
            span.start_line,
            span.start_column,
            self.rule,
            self.message.as_str(),
            span.end_line,
            span.end_column,
        )
    }
}

/// Where a raw finding points in the current image: a file, and optionally a source path.
#[derive(Clone, Debug)]
pub(crate) struct Loc {
    pub file: u32,
    pub path: Option<Vec<i32>>,
}

/// What a deletion removed, for the deprecation policy.
#[derive(Clone, Debug)]
pub(crate) enum Deleted {
    /// A field; the flags say whether the current message reserves its number and name.
    Field {
        number: i32,
        name: String,
        number_reserved: bool,
        name_reserved: bool,
    },
    /// The values sharing one number; the flags say what the current enum reserves.
    EnumValue {
        number: i32,
        names: Vec<String>,
        number_reserved: bool,
        names_reserved: bool,
    },
    /// Any other element (message, enum, service, RPC, extension, oneof, file, package).
    Element,
}

/// A deletion a rule reported, with whether the deleted element was deprecated.
#[derive(Clone, Debug)]
pub(crate) struct Deletion {
    pub what: Deleted,
    pub deprecated: bool,
}

/// A finding as a rule emits it: located by file index and source path, with the previous
/// file it came from (buf's "against" location, used by ignores).
#[derive(Clone, Debug)]
pub(crate) struct RawFinding {
    pub rule: &'static str,
    pub loc: Option<Loc>,
    pub against_file: Option<u32>,
    pub message: String,
    pub deletion: Option<Deletion>,
}

/// Where rule handlers write their findings.
pub(crate) struct Sink<'o> {
    pub(crate) rule: &'static str,
    pub(crate) out: &'o mut Vec<RawFinding>,
}

impl Sink<'_> {
    /// Reports a finding; returns it so the caller can attach deletion details.
    pub(crate) fn report(
        &mut self,
        loc: Option<Loc>,
        against_file: Option<u32>,
        message: String,
    ) -> &mut RawFinding {
        self.out.push(RawFinding {
            rule: self.rule,
            loc,
            against_file,
            message,
            deletion: None,
        });
        let last = self.out.len() - 1;
        &mut self.out[last]
    }
}
