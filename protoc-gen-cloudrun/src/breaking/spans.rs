//! Aligns protox's source locations with the ones buf's compiler records, so that findings on
//! a directory point where buf points.
//!
//! Two differences matter: buf counts columns in characters with tab stops every 4 columns
//! where protox counts bytes, and buf's span for a field's `default` covers `default = value`
//! where protox covers only the value.

use super::descriptor::{FileProto, Location};

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
            return i + 3 == path.len() && next == Some(&7);
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

/// Rewrites a compiled file's spans the way buf's compiler records them.
pub(crate) fn align_with_buf(file: &mut FileProto, source: &str) {
    let Some(info) = file.source_code_info.as_mut() else {
        return;
    };
    let lines = Lines::new(source);
    for loc in &mut info.location {
        align(loc, &lines);
    }
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
