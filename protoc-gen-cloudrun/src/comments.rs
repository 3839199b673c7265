//! Proto comments made safe for rustdoc, in one place, before any generator sees them.
//!
//! Proto comments become doc comments (prost-build for messages, tonic-build for services), and
//! rustdoc runs every code block whose language it takes for Rust as a doctest: a ```` ``` ```` fence
//! without a language, or a block indented four spaces. A proto comment showing a JSON payload or a
//! shell command would then fail `cargo test --doc` in the user's crate. prost-build only rewrites
//! fences behind its `cleanup-markdown` feature (which turns `rust` fences into `compile_fail`, so a
//! snippet that does compile fails) and tonic-build not at all, so the comments are rewritten here,
//! in the descriptors' source info, and every generator downstream gets the safe text:
//!
//! - a fence whose language rustdoc would test (none, `rust`, or only rustdoc attributes such as
//!   `ignore` or `no_run`) becomes a `text` fence; fences in other languages (`json`, `sh`) are
//!   left alone, rustdoc does not test them;
//! - an indented block becomes a `text` fence around the same lines;
//! - a fence left open at the end of a comment is closed, so it cannot swallow the next one.
//!
//! Indentation is judged the way it will look to rustdoc after prost-build's own rewriting (which
//! adds one space to lines starting with two or more) and rustdoc's removal of the common indent.

use prost_types::FileDescriptorProto;

/// Rewrites the comments of `file`'s source info in place (see the module documentation).
pub fn make_rustdoc_safe(file: &mut FileDescriptorProto) {
    let Some(info) = file.source_code_info.as_mut() else {
        return;
    };
    for location in &mut info.location {
        for comment in location
            .leading_comments
            .iter_mut()
            .chain(location.trailing_comments.iter_mut())
            .chain(location.leading_detached_comments.iter_mut())
        {
            if let Some(safe) = rustdoc_safe(comment) {
                *comment = safe;
            }
        }
    }
}

/// The rustdoc-safe form of one proto comment, or `None` when it is already safe.
pub fn rustdoc_safe(comment: &str) -> Option<String> {
    if !comment.contains("```")
        && !comment.contains("~~~")
        && !comment.contains("  ")
        && !comment.contains('\t')
    {
        return None; // no fence and no indentation: nothing rustdoc could run
    }
    let lines: Vec<&str> = comment.lines().collect();
    // Indentation of each line as prost-build will emit it, then relative to the common indent.
    let emitted: Vec<Option<usize>> = lines
        .iter()
        .map(|line| {
            let indent = leading_columns(line)?;
            Some(if indent == 1 { 1 } else { indent + 1 })
        })
        .collect();
    let base = emitted.iter().flatten().copied().min().unwrap_or(1);
    // A line that prost-build emits with exactly `base` leading spaces, for the fences added here.
    let fence_indent = " ".repeat(if base == 1 { 1 } else { base - 1 });

    let mut out: Vec<String> = Vec::with_capacity(lines.len() + 4);
    let mut open_fence: Option<(char, usize)> = None;
    let mut in_indented_block = false;
    let mut previous_blank = true;
    let mut changed = false;
    for (line, indent) in lines.iter().zip(&emitted) {
        let Some(indent) = *indent else {
            // Blank lines continue whatever block is open.
            out.push((*line).to_string());
            previous_blank = true;
            continue;
        };
        let relative = indent - base;
        let text = line.trim_start();
        if let Some((fence_char, fence_len)) = open_fence {
            if relative < 4 && is_closing_fence(text, fence_char, fence_len) {
                open_fence = None;
            }
            out.push((*line).to_string());
        } else if in_indented_block && relative >= 4 {
            out.push((*line).to_string());
        } else {
            if in_indented_block {
                close_indented_block(&mut out, &fence_indent);
                in_indented_block = false;
            }
            if let (true, Some((fence_char, fence_len, info))) = (relative < 4, opening_fence(text))
            {
                open_fence = Some((fence_char, fence_len));
                if rustdoc_would_test(info) {
                    let fence: String = std::iter::repeat_n(fence_char, fence_len).collect();
                    let line_indent = &line[..line.len() - text.len()];
                    out.push(format!("{line_indent}{fence}text"));
                    changed = true;
                } else {
                    out.push((*line).to_string());
                }
            } else if previous_blank && relative >= 4 {
                out.push(format!("{fence_indent}```text"));
                out.push((*line).to_string());
                in_indented_block = true;
                changed = true;
            } else {
                out.push((*line).to_string());
            }
        }
        previous_blank = false;
    }
    if in_indented_block {
        close_indented_block(&mut out, &fence_indent);
    }
    if let Some((fence_char, fence_len)) = open_fence {
        out.push(format!(
            "{fence_indent}{}",
            std::iter::repeat_n(fence_char, fence_len).collect::<String>()
        ));
        changed = true;
    }
    if !changed {
        return None;
    }
    let mut joined = out.join("\n");
    if comment.ends_with('\n') {
        joined.push('\n');
    }
    Some(joined)
}

/// Closes an indented block before the blank lines that ended it, so they stay outside the fence.
fn close_indented_block(out: &mut Vec<String>, fence_indent: &str) {
    let trailing_blank = out
        .iter()
        .rev()
        .take_while(|line| line.trim().is_empty())
        .count();
    out.insert(out.len() - trailing_blank, format!("{fence_indent}```"));
}

/// Columns of leading whitespace (a tab advances to the next multiple of four), `None` for a
/// blank line.
fn leading_columns(line: &str) -> Option<usize> {
    let mut columns = 0;
    for c in line.chars() {
        match c {
            ' ' => columns += 1,
            '\t' => columns += 4 - columns % 4,
            _ => return Some(columns),
        }
    }
    None
}

/// `(fence char, fence length, info string)` when `text` opens a CommonMark code fence.
fn opening_fence(text: &str) -> Option<(char, usize, &str)> {
    let fence_char = text.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let fence_len = text.chars().take_while(|c| *c == fence_char).count();
    if fence_len < 3 {
        return None;
    }
    let info = text[fence_len..].trim();
    // A backtick fence's info string cannot contain backticks (that is inline code instead).
    if fence_char == '`' && info.contains('`') {
        return None;
    }
    Some((fence_char, fence_len, info))
}

fn is_closing_fence(text: &str, fence_char: char, fence_len: usize) -> bool {
    let run = text.chars().take_while(|c| *c == fence_char).count();
    run >= fence_len && text[run..].trim().is_empty()
}

/// Whether rustdoc treats a fence with this info string as a Rust doctest: no language, `rust`,
/// or nothing but rustdoc's own attributes.
fn rustdoc_would_test(info: &str) -> bool {
    info.split([',', ' ', '\t'])
        .filter(|token| !token.is_empty())
        .all(|token| {
            matches!(
                token,
                "rust"
                    | "ignore"
                    | "should_panic"
                    | "no_run"
                    | "compile_fail"
                    | "test_harness"
                    | "standalone_crate"
            ) || token.starts_with("edition")
                || token.starts_with("ignore-")
                || (token.len() == 5
                    && token.starts_with('E')
                    && token[1..].chars().all(|c| c.is_ascii_digit()))
        })
}

#[cfg(test)]
mod tests {
    use super::rustdoc_safe;

    #[test]
    fn rewrites_only_what_rustdoc_would_run() {
        let cases: &[(&str, Option<&str>)] = &[
            (" Plain text.\n", None),
            (" Inline `code` is fine.\n", None),
            (
                " Example:\n ```\n let x = 1;\n ```\n",
                Some(" Example:\n ```text\n let x = 1;\n ```\n"),
            ),
            (
                " ```rust,no_run\n fn main() {}\n ```\n",
                Some(" ```text\n fn main() {}\n ```\n"),
            ),
            (" ```json\n {\"a\": 1}\n ```\n", None),
            (" ~~~\n x\n ~~~\n", Some(" ~~~text\n x\n ~~~\n")),
            (
                " Call it:\n\n    curl localhost\n    echo done\n\n Then.\n",
                Some(" Call it:\n\n ```text\n    curl localhost\n    echo done\n ```\n\n Then.\n"),
            ),
            // Two spaces become three once prost-build adds its own, which is not yet code.
            (" Wrapped\n  continuation line\n", None),
            // prost-build emits `   x` as `    x`, three columns past the common indent: text.
            (" Text\n\n   indented\n", None),
            // A tab reaches column four.
            (
                " Text\n\n\tcode\n",
                Some(" Text\n\n ```text\n\tcode\n ```\n"),
            ),
            // A list continuation is indented too; fencing it is harmless, running it is not.
            (
                " - item\n\n     more\n",
                Some(" - item\n\n ```text\n     more\n ```\n"),
            ),
            // An indented line right after a paragraph line continues the paragraph.
            (" Paragraph\n     still paragraph\n", None),
            (
                " ```\n never closed\n",
                Some(" ```text\n never closed\n ```\n"),
            ),
            (
                " ````\n ```\n inner\n ```\n ````\n",
                Some(" ````text\n ```\n inner\n ```\n ````\n"),
            ),
            // Everything indented alike: rustdoc removes the common indent, nothing is code.
            ("     a\n     b\n", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                rustdoc_safe(input).as_deref(),
                *expected,
                "rustdoc_safe({input:?})"
            );
        }
    }

    #[test]
    fn fences_follow_a_deep_common_indent() {
        // All lines start with three spaces; prost-build emits four, so the fence needs three.
        let safe = rustdoc_safe("   Doc\n\n       code\n").expect("indented block");
        assert_eq!(safe, "   Doc\n\n   ```text\n       code\n   ```\n");
    }
}
