//! Aligns protox's source locations with the ones buf's compiler records, so that findings on
//! a directory point where buf points.
//!
//! The differences that matter: buf counts columns in characters with tab stops every 4
//! columns where protox counts bytes; buf's span for a field's `default` covers
//! `default = value` where protox covers only the value; for a group, buf puts the `group`
//! keyword at the field's type name where protox splits it into type and name; and protox may
//! record a `json_name` twice (whole option and value) where buf records the whole option once.

use std::collections::{HashMap, HashSet};

use super::descriptor::{FileProto, Location, MessageProto, field_type};

/// What alignment needs from a source text, extracted once at load so the text itself can be
/// dropped: the lines whose byte columns differ from buf's columns, and where each
/// `default = value` starts.
#[derive(Debug, Default)]
pub(crate) struct SpanHints {
    /// Lines (0-based) holding tabs or non-ASCII characters, with their text.
    odd_lines: HashMap<u32, Box<str>>,
    /// (line, byte column) of a value written after `default =` to that of `default`.
    defaults: HashMap<(u32, u32), (u32, u32)>,
}

impl SpanHints {
    /// Scans a source text.
    pub(crate) fn new(source: &str) -> SpanHints {
        let mut starts = vec![0usize];
        let mut odd_lines = HashMap::new();
        let mut line_start = 0;
        let mut odd = false;
        for (i, b) in source.bytes().enumerate() {
            if b == b'\n' {
                if odd {
                    odd_lines.insert((starts.len() - 1) as u32, source[line_start..i].into());
                }
                starts.push(i + 1);
                line_start = i + 1;
                odd = false;
            } else if b == b'\t' || b >= 0x80 {
                odd = true;
            }
        }
        if odd {
            odd_lines.insert((starts.len() - 1) as u32, source[line_start..].into());
        }
        let position = |offset: usize| -> (u32, u32) {
            let line = starts.partition_point(|&s| s <= offset) - 1;
            (line as u32, (offset - starts[line]) as u32)
        };
        let bytes = source.as_bytes();
        let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let mut defaults = HashMap::new();
        for (at, _) in source.match_indices("default") {
            let end = at + "default".len();
            if (at > 0 && is_ident(bytes[at - 1])) || bytes.get(end).is_some_and(|b| is_ident(*b)) {
                continue;
            }
            let mut i = end;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if bytes.get(i) != Some(&b'=') {
                continue;
            }
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            defaults.insert(position(i), position(at));
        }
        SpanHints {
            odd_lines,
            defaults,
        }
    }

    /// buf's column for a byte column of a line: characters, tabs to the next multiple of 4.
    fn column(&self, line: u32, byte_column: u32) -> u32 {
        let Some(text) = self.odd_lines.get(&line) else {
            return byte_column;
        };
        let mut column = 0;
        for (i, c) in text.char_indices() {
            if i >= byte_column as usize {
                break;
            }
            column = if c == '\t' {
                (column / 4 + 1) * 4
            } else {
                column + 1
            };
        }
        column
    }
}

/// Whether a source path names a field's (or extension's) `default_value`.
fn is_field_default(path: &[i32]) -> bool {
    is_field_attribute(path, 7)
}

/// Whether a source path names attribute `tag` of a field or extension.
fn is_field_attribute(path: &[i32], tag: i32) -> bool {
    // Walk the path through file -> message* -> field, checking each step's field number.
    let mut i = 0;
    let mut in_message = false;
    while i + 1 < path.len() {
        let (field, next) = (path[i], path.get(i + 2));
        let is_field = if in_message {
            field == 2 || field == 6
        } else {
            field == 7
        };
        let is_message = if in_message { field == 3 } else { field == 4 };
        if is_field {
            return i + 3 == path.len() && next == Some(&tag);
        }
        if !is_message {
            return false;
        }
        in_message = true;
        i += 2;
    }
    false
}

/// Source paths of the group fields of a file.
fn group_fields(file: &FileProto) -> HashSet<Vec<i32>> {
    fn walk(m: &MessageProto, path: &mut Vec<i32>, out: &mut HashSet<Vec<i32>>) {
        for (tag, fields) in [(2, &m.field), (6, &m.extension)] {
            for (i, f) in fields.iter().enumerate() {
                if f.r#type == Some(field_type::GROUP) {
                    let mut p = path.clone();
                    p.extend_from_slice(&[tag, i as i32]);
                    out.insert(p);
                }
            }
        }
        for (i, nested) in m.nested_type.iter().enumerate() {
            path.extend_from_slice(&[3, i as i32]);
            walk(nested, path, out);
            path.truncate(path.len() - 2);
        }
    }
    let mut out = HashSet::new();
    for (i, f) in file.extension.iter().enumerate() {
        if f.r#type == Some(field_type::GROUP) {
            out.insert(vec![7, i as i32]);
        }
    }
    for (i, m) in file.message_type.iter().enumerate() {
        walk(m, &mut vec![4, i as i32], &mut out);
    }
    out
}

/// Rewrites a compiled file's spans the way buf's compiler records them.
pub(crate) fn align_with_buf(file: &FileProto, locations: &mut Vec<Location>, hints: &SpanHints) {
    let groups = group_fields(file);
    let field_of = |path: &[i32], last: i32| -> Option<Vec<i32>> {
        match path.split_last() {
            Some((&l, field)) if l == last && groups.contains(field) => Some(field.to_vec()),
            _ => None,
        }
    };
    // A group's `group` keyword, which protox records as its type.
    let mut group_keyword: Vec<(Vec<i32>, Vec<i32>)> = Vec::new();
    let mut kept = Vec::with_capacity(locations.len());
    for loc in std::mem::take(locations) {
        if let Some(field) = field_of(&loc.path, 5) {
            group_keyword.push((field, loc.span));
            continue;
        }
        kept.push(loc);
    }
    for loc in &mut kept {
        if let Some(field) = field_of(&loc.path, 6) {
            if let Some((_, span)) = group_keyword.iter().find(|(f, _)| *f == field) {
                loc.span = span.clone();
            }
        }
    }
    // Keep the widest of duplicate json_name locations (the whole `json_name = "..."`).
    let mut json_seen: HashSet<Vec<i32>> = HashSet::new();
    let mut widest: HashMap<Vec<i32>, (i32, i32)> = HashMap::new();
    for loc in &kept {
        if is_field_attribute(&loc.path, 10) && loc.span.len() >= 3 {
            let start = (loc.span[0], loc.span[1]);
            widest
                .entry(loc.path.clone())
                .and_modify(|w| *w = (*w).min(start))
                .or_insert(start);
        }
    }
    kept.retain(|loc| {
        if !is_field_attribute(&loc.path, 10) || loc.span.len() < 3 {
            return true;
        }
        let start = (loc.span[0], loc.span[1]);
        widest.get(&loc.path) == Some(&start) && json_seen.insert(loc.path.clone())
    });
    for loc in &mut kept {
        align(loc, hints);
    }
    *locations = kept;
}

fn align(loc: &mut Location, hints: &SpanHints) {
    let (mut sl, mut sc, el, ec) = match loc.span[..] {
        [l, c, e] => (l, c, l, e),
        [l, c, el, ec] => (l, c, el, ec),
        _ => return,
    };
    let (Ok(l), Ok(c), Ok(e_l), Ok(e_c)) = (
        u32::try_from(sl),
        u32::try_from(sc),
        u32::try_from(el),
        u32::try_from(ec),
    ) else {
        return;
    };
    let (mut l, mut c) = (l, c);
    if is_field_default(&loc.path) {
        if let Some(&(kl, kc)) = hints.defaults.get(&(l, c)) {
            (l, c) = (kl, kc);
        }
    }
    sl = l as i32;
    sc = hints.column(l, c) as i32;
    let ec = hints.column(e_l, e_c) as i32;
    loc.span = if sl == el {
        vec![sl, sc, ec]
    } else {
        vec![sl, sc, el, ec]
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_and_tab_stops() {
        let hints = SpanHints::new("a\n\tmessage C {\tx\n  \"éé\" y");
        assert_eq!(hints.column(1, 1), 4);
        assert_eq!(hints.column(1, 13), 16);
        assert_eq!(hints.column(2, 8), 6);
        assert_eq!(hints.column(0, 1), 1);
    }

    #[test]
    fn finds_field_default_paths() {
        assert!(is_field_default(&[4, 0, 2, 1, 7]));
        assert!(is_field_default(&[4, 0, 3, 2, 6, 0, 7]));
        assert!(is_field_default(&[7, 3, 7]));
        assert!(!is_field_default(&[4, 0, 7]));
        assert!(!is_field_default(&[4, 0, 2, 1, 8]));
        assert!(!is_field_default(&[5, 0, 2, 0, 7]));
    }

    #[test]
    fn widens_defaults_to_the_keyword() {
        let hints = SpanHints::new(
            "  int32 x = 1 [default = 6];\n  int32 y = 2 [default =\n    7];\n  x_default = 3;",
        );
        assert_eq!(hints.defaults.get(&(0, 25)), Some(&(0, 15)));
        assert_eq!(hints.defaults.get(&(2, 4)), Some(&(1, 15)));
        assert_eq!(hints.defaults.len(), 2);
    }
}
