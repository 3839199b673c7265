//! Aligns protox's source locations with the ones buf's compiler records, so that findings on
//! a directory point where buf points.
//!
//! The differences that matter: buf counts columns in characters with tab stops every 4
//! columns where protox counts bytes; buf's span for a field's `default` covers
//! `default = value` where protox covers only the value; for a group, buf puts the `group`
//! keyword at the field's type name where protox splits it into type and name; and protox may
//! record a `json_name` twice (whole option and value) where buf records the whole option once.

use std::collections::HashSet;

use super::descriptor::{FileProto, Location, MessageProto, field_type};

/// Where each line of a source starts, and whether its columns need translating.
struct Lines<'s> {
    source: &'s str,
    starts: Vec<usize>,
    plain: Vec<bool>,
}

impl<'s> Lines<'s> {
    fn new(source: &'s str) -> Lines<'s> {
        let mut starts = vec![0];
        let mut plain = Vec::new();
        let mut current_plain = true;
        for (i, b) in source.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
                plain.push(current_plain);
                current_plain = true;
            } else if b == b'\t' || b >= 0x80 {
                current_plain = false;
            }
        }
        plain.push(current_plain);
        Lines {
            source,
            starts,
            plain,
        }
    }

    fn offset(&self, line: usize, column: usize) -> Option<usize> {
        let start = *self.starts.get(line)?;
        Some((start + column).min(self.source.len()))
    }

    fn line_column(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        (line, offset - self.starts[line])
    }

    /// buf's column for a byte column of a line: characters, tabs to the next multiple of 4.
    fn column(&self, line: usize, byte_column: usize) -> usize {
        if self.plain.get(line).copied().unwrap_or(true) {
            return byte_column;
        }
        let start = self.starts[line];
        let end = self
            .starts
            .get(line + 1)
            .copied()
            .unwrap_or(self.source.len())
            .min(start + byte_column);
        let mut column = 0;
        for (i, c) in self.source[start..].char_indices() {
            if start + i >= end {
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

/// If `offset` starts a default value written as `default = value`, the offset of `default`.
fn default_keyword_before(source: &str, offset: usize) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut i = offset;
    let skip_space = |mut i: usize| {
        while i > 0 && bytes[i - 1].is_ascii_whitespace() {
            i -= 1;
        }
        i
    };
    i = skip_space(i);
    if i == 0 || bytes[i - 1] != b'=' {
        return None;
    }
    i = skip_space(i - 1);
    let keyword = b"default";
    if i < keyword.len() || &bytes[i - keyword.len()..i] != keyword {
        return None;
    }
    let start = i - keyword.len();
    if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
        return None;
    }
    Some(start)
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
pub(crate) fn align_with_buf(file: &mut FileProto, source: &str) {
    let groups = group_fields(file);
    let Some(info) = file.source_code_info.as_mut() else {
        return;
    };
    let lines = Lines::new(source);
    let field_of = |path: &[i32], last: i32| -> Option<Vec<i32>> {
        match path.split_last() {
            Some((&l, field)) if l == last && groups.contains(field) => Some(field.to_vec()),
            _ => None,
        }
    };
    // A group's `group` keyword, which protox records as its type.
    let mut group_keyword: Vec<(Vec<i32>, Vec<i32>)> = Vec::new();
    let mut locations = Vec::with_capacity(info.location.len());
    for loc in std::mem::take(&mut info.location) {
        if let Some(field) = field_of(&loc.path, 5) {
            group_keyword.push((field, loc.span));
            continue;
        }
        locations.push(loc);
    }
    for loc in &mut locations {
        if let Some(field) = field_of(&loc.path, 6) {
            if let Some((_, span)) = group_keyword.iter().find(|(f, _)| *f == field) {
                loc.span = span.clone();
            }
        }
    }
    // Keep the widest of duplicate json_name locations (the whole `json_name = "..."`).
    let mut json_seen: HashSet<Vec<i32>> = HashSet::new();
    let mut widest: std::collections::HashMap<Vec<i32>, (i32, i32)> = Default::default();
    for loc in &locations {
        if is_field_attribute(&loc.path, 10) && loc.span.len() >= 3 {
            let start = (loc.span[0], loc.span[1]);
            widest
                .entry(loc.path.clone())
                .and_modify(|w| *w = (*w).min(start))
                .or_insert(start);
        }
    }
    locations.retain(|loc| {
        if !is_field_attribute(&loc.path, 10) || loc.span.len() < 3 {
            return true;
        }
        let start = (loc.span[0], loc.span[1]);
        widest.get(&loc.path) == Some(&start) && json_seen.insert(loc.path.clone())
    });
    for loc in &mut locations {
        align(loc, &lines);
    }
    info.location = locations;
}

fn align(loc: &mut Location, lines: &Lines<'_>) {
    let (mut sl, mut sc, el, ec) = match loc.span[..] {
        [l, c, e] => (l, c, l, e),
        [l, c, el, ec] => (l, c, el, ec),
        _ => return,
    };
    if sl < 0 || sc < 0 || el < 0 || ec < 0 {
        return;
    }
    if is_field_default(&loc.path) {
        let keyword = lines
            .offset(sl as usize, sc as usize)
            .and_then(|o| default_keyword_before(lines.source, o));
        if let Some(start) = keyword {
            let (l, c) = lines.line_column(start);
            (sl, sc) = (l as i32, c as i32);
        }
    }
    let sc = lines.column(sl as usize, sc as usize) as i32;
    let ec = lines.column(el as usize, ec as usize) as i32;
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
        let lines = Lines::new("a\n\tmessage C {\tx\n  \"éé\" y");
        assert_eq!(lines.column(1, 1), 4);
        assert_eq!(lines.column(1, 13), 16);
        assert_eq!(lines.column(2, 8), 6);
        assert_eq!(lines.column(0, 1), 1);
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
        let src = "  int32 x = 1 [default = 6];";
        let offset = src.find('6').unwrap();
        assert_eq!(default_keyword_before(src, offset), src.find("default"));
        assert_eq!(default_keyword_before("x = 6", 4), None);
    }
}
