//! Rules judging a matched message: its fields as a set, oneofs, ranges and message options.

use std::collections::{HashMap, HashSet};

use super::{Ctx, MessagePair, field_description};
use crate::breaking::descriptor::{Range, label};
use crate::breaking::finding::{Deleted, Deletion, Loc, Sink};
use crate::breaking::gofmt::quote;
use crate::breaking::model::{MessageRef, feature, opt_bool};

/// Highest field number of a message (2^29 - 1).
pub(super) const MESSAGE_MAX: i64 = 536_870_911;
/// Highest field number of a message using the message-set wire format.
pub(super) const MESSAGE_SET_MAX: i64 = i32::MAX as i64 - 1;
/// Highest enum number.
pub(super) const ENUM_MAX: i64 = i32::MAX as i64;

/// An inclusive tag range; `is_max` says it runs to the element's maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct TagRange {
    pub start: i64,
    pub end: i64,
    pub is_max: bool,
}

impl TagRange {
    fn describe(&self) -> String {
        if self.start == self.end {
            format!("[{}]", self.start)
        } else if self.is_max {
            format!("[{},max]", self.start)
        } else {
            format!("[{},{}]", self.start, self.end)
        }
    }
}

/// A message's ranges made inclusive (descriptors store message range ends exclusive).
pub(super) fn message_ranges(m: &MessageRef<'_>, ranges: &[Range]) -> Vec<TagRange> {
    let max = if m.message_set_wire_format() {
        MESSAGE_SET_MAX
    } else {
        MESSAGE_MAX
    };
    ranges
        .iter()
        .map(|r| {
            let end = i64::from(r.end.unwrap_or(0)) - 1;
            TagRange {
                start: i64::from(r.start.unwrap_or(0)),
                end,
                is_max: end == max,
            }
        })
        .collect()
}

/// Sorts ranges and merges overlapping or adjacent ones.
fn collapse(ranges: &[TagRange]) -> Vec<(i64, i64)> {
    let mut sorted: Vec<(i64, i64)> = ranges.iter().map(|r| (r.start, r.end)).collect();
    sorted.sort();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(sorted.len());
    for (start, end) in sorted {
        match out.last_mut() {
            Some(last) if start <= last.1 + 1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// The parts of `[start, end]` not covered by `collapsed` (buf's `findMissing`).
fn find_missing(mut start: i64, end: i64, collapsed: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut index = collapsed.partition_point(|r| r.1 < start);
    if index >= collapsed.len() || collapsed[index].0 > end {
        return vec![(start, end)];
    }
    let (mut entry_start, mut entry_end) = collapsed[index];
    let mut missing = Vec::new();
    loop {
        if start < entry_start {
            if end < entry_start {
                missing.push((start, end));
            } else {
                missing.push((start, entry_start - 1));
            }
        }
        start = entry_end + 1;
        index += 1;
        if index >= collapsed.len() || entry_end >= end {
            break;
        }
        (entry_start, entry_end) = collapsed[index];
    }
    if end > entry_end {
        missing.push((entry_end + 1, end));
    }
    missing
}

/// Reports previous ranges (extension or reserved) that lost values (buf's `checkTagRanges`).
#[allow(clippy::too_many_arguments)]
pub(super) fn check_tag_ranges(
    sink: &mut Sink<'_>,
    range_kind: &str,
    element_kind: &str,
    element_name: &str,
    max_tag: i64,
    prev: &[TagRange],
    cur: &[TagRange],
    loc: Option<Loc>,
    against_file: u32,
) {
    if prev.is_empty() {
        return;
    }
    let collapsed = collapse(cur);
    for range in prev {
        let missing = find_missing(range.start, range.end, &collapsed);
        if missing.is_empty() {
            continue;
        }
        let removed = missing
            .iter()
            .map(|&(s, e)| {
                if s == e {
                    format!("[{s}]")
                } else if e == max_tag {
                    format!("[{s},max]")
                } else {
                    format!("[{s},{e}]")
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let message = format!(
            "Previously present {range_kind} range {} on {element_kind} {} is missing values: {removed} were removed.",
            quote(&range.describe()),
            quote(element_name)
        );
        sink.report(loc.clone(), Some(against_file), message);
    }
}

fn max_tag(m: &MessageRef<'_>) -> i64 {
    if m.message_set_wire_format() {
        MESSAGE_SET_MAX
    } else {
        MESSAGE_MAX
    }
}

pub(super) fn extension_message_no_delete(
    ctx: &Ctx<'_, '_, '_>,
    pair: MessagePair,
    sink: &mut Sink<'_>,
) {
    let prev = &ctx.prev.messages[pair.prev as usize];
    let cur = &ctx.cur.messages[pair.cur as usize];
    check_tag_ranges(
        sink,
        "extension",
        "message",
        cur.name(),
        max_tag(cur),
        &message_ranges(prev, &prev.proto.extension_range),
        &message_ranges(cur, &cur.proto.extension_range),
        ctx.at(cur.file, cur.path.clone()),
        prev.file,
    );
}

pub(super) fn reserved_no_delete(ctx: &Ctx<'_, '_, '_>, pair: MessagePair, sink: &mut Sink<'_>) {
    let prev = &ctx.prev.messages[pair.prev as usize];
    let cur = &ctx.cur.messages[pair.cur as usize];
    let loc = ctx.at(cur.file, cur.path.clone());
    check_tag_ranges(
        sink,
        "reserved",
        "message",
        cur.name(),
        max_tag(cur),
        &message_ranges(prev, &prev.proto.reserved_range),
        &message_ranges(cur, &cur.proto.reserved_range),
        loc.clone(),
        prev.file,
    );
    let names: HashSet<&str> = cur.proto.reserved_name.iter().map(String::as_str).collect();
    let mut seen = HashSet::new();
    for name in &prev.proto.reserved_name {
        if !names.contains(name.as_str()) && seen.insert(name.as_str()) {
            let message = format!(
                "Previously present reserved name {} on message {} was deleted.",
                quote(name),
                quote(cur.name())
            );
            sink.report(loc.clone(), Some(prev.file), message);
        }
    }
}

/// Whether a message reserves a field number (its reserved ranges, ends exclusive).
pub(crate) fn message_reserves_number(m: &MessageRef<'_>, number: i32) -> bool {
    m.proto
        .reserved_range
        .iter()
        .any(|r| r.start.unwrap_or(0) <= number && number < r.end.unwrap_or(0))
}

/// Whether a message reserves a field name.
pub(crate) fn message_reserves_name(m: &MessageRef<'_>, name: &str) -> bool {
    m.proto.reserved_name.iter().any(|n| n == name)
}

/// When a deleted field is still acceptable to a `FIELD_NO_DELETE*` rule.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unless {
    Never,
    NumberReserved,
    NameReserved,
}

fn field_no_delete_with(
    ctx: &Ctx<'_, '_, '_>,
    pair: MessagePair,
    sink: &mut Sink<'_>,
    unless: Unless,
) {
    let prev = &ctx.prev.messages[pair.prev as usize];
    let cur = &ctx.cur.messages[pair.cur as usize];
    let numbers: HashSet<i32> = cur
        .proto
        .field
        .iter()
        .map(|f| f.number.unwrap_or(0))
        .collect();
    for i in 0..prev.proto.field.len() {
        let field = ctx.prev.field(pair.prev, i);
        let number = field.number();
        if numbers.contains(&number) {
            continue;
        }
        let number_reserved = message_reserves_number(cur, number);
        let name_reserved = message_reserves_name(cur, field.name());
        let (allowed, suffix) = match unless {
            Unless::Never => (false, String::new()),
            Unless::NumberReserved => (
                number_reserved,
                format!(
                    " without reserving the number {}",
                    quote(&number.to_string())
                ),
            ),
            Unless::NameReserved => (
                name_reserved,
                format!(" without reserving the name {}", quote(field.name())),
            ),
        };
        if allowed {
            continue;
        }
        let description = field_description(ctx.prev, &field);
        let description = lower_first(&description);
        let message = format!("Previously present {description} was deleted{suffix}.");
        sink.report(ctx.at(cur.file, cur.path.clone()), Some(prev.file), message)
            .deletion = Some(Deletion {
            what: Deleted::Field {
                number,
                name: field.name().to_string(),
                number_reserved,
                name_reserved,
            },
            deprecated: field.deprecated,
        });
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub(super) fn field_no_delete(ctx: &Ctx<'_, '_, '_>, pair: MessagePair, sink: &mut Sink<'_>) {
    field_no_delete_with(ctx, pair, sink, Unless::Never);
}

pub(super) fn field_no_delete_unless_number_reserved(
    ctx: &Ctx<'_, '_, '_>,
    pair: MessagePair,
    sink: &mut Sink<'_>,
) {
    field_no_delete_with(ctx, pair, sink, Unless::NumberReserved);
}

pub(super) fn field_no_delete_unless_name_reserved(
    ctx: &Ctx<'_, '_, '_>,
    pair: MessagePair,
    sink: &mut Sink<'_>,
) {
    field_no_delete_with(ctx, pair, sink, Unless::NameReserved);
}

pub(super) fn oneof_no_delete(ctx: &Ctx<'_, '_, '_>, pair: MessagePair, sink: &mut Sink<'_>) {
    let prev = &ctx.prev.messages[pair.prev as usize];
    let cur = &ctx.cur.messages[pair.cur as usize];
    let names: HashSet<&str> = cur
        .proto
        .oneof_decl
        .iter()
        .map(|o| o.name.as_deref().unwrap_or(""))
        .collect();
    let mut seen = HashSet::new();
    for (i, oneof) in prev.proto.oneof_decl.iter().enumerate() {
        let name = oneof.name.as_deref().unwrap_or("");
        if names.contains(name) || !seen.insert(name) || ctx.prev.is_synthetic_oneof(prev, i) {
            continue;
        }
        // A oneof has no deprecated option of its own; it counts as deprecated when every
        // field in it is.
        let mut members = (0..prev.proto.field.len())
            .map(|f| ctx.prev.field(pair.prev, f))
            .filter(|f| f.oneof_index() == Some(i as i32))
            .peekable();
        let deprecated = members.peek().is_some() && members.all(|f| f.deprecated);
        let message = format!(
            "Previously present oneof {} on message {} was deleted.",
            quote(name),
            quote(cur.name())
        );
        sink.report(ctx.at(cur.file, cur.path.clone()), Some(prev.file), message)
            .deletion = Some(Deletion {
            what: Deleted::Element,
            deprecated,
        });
    }
}

pub(super) fn no_remove_standard_descriptor_accessor(
    ctx: &Ctx<'_, '_, '_>,
    pair: MessagePair,
    sink: &mut Sink<'_>,
) {
    let prev = &ctx.prev.messages[pair.prev as usize];
    let cur = &ctx.cur.messages[pair.cur as usize];
    let get = |m: &MessageRef<'_>| {
        opt_bool(
            m.proto
                .options
                .as_ref()
                .and_then(|o| o.no_standard_descriptor_accessor),
        )
    };
    if !get(prev) && get(cur) {
        let mut path = cur.path.clone();
        path.extend_from_slice(&[7, 2]);
        let message =
            "Message option \"no_standard_descriptor_accessor\" changed from \"false\" to \"true\"."
                .to_string();
        sink.report(ctx.at(cur.file, path), Some(prev.file), message);
    }
}

pub(super) fn same_json_format(ctx: &Ctx<'_, '_, '_>, pair: MessagePair, sink: &mut Sink<'_>) {
    let prev = &ctx.prev.messages[pair.prev as usize];
    let cur = &ctx.cur.messages[pair.cur as usize];
    let (p, c) = (prev.features.json_format, cur.features.json_format);
    if p == feature::JSON_ALLOW && c != feature::JSON_ALLOW {
        let mut feature_path = cur.path.clone();
        feature_path.extend_from_slice(&[7, 12, 6]);
        let loc = ctx.first_of(cur.file, &[feature_path, cur.path.clone()]);
        let message = format!(
            "Message {} JSON format support changed from {} to {}.",
            quote(cur.name()),
            feature::json_name(p),
            feature::json_name(c)
        );
        sink.report(loc, Some(prev.file), message);
    }
}

pub(super) fn same_required_fields(ctx: &Ctx<'_, '_, '_>, pair: MessagePair, sink: &mut Sink<'_>) {
    let prev = &ctx.prev.messages[pair.prev as usize];
    let cur = &ctx.cur.messages[pair.cur as usize];
    let required = |m: &MessageRef<'_>| -> HashMap<i32, usize> {
        m.proto
            .field
            .iter()
            .enumerate()
            .filter(|(_, f)| f.label == Some(label::REQUIRED))
            .map(|(i, f)| (f.number.unwrap_or(0), i))
            .collect()
    };
    let (prev_required, cur_required) = (required(prev), required(cur));
    let tail = "Required fields must always be sent, so if one side does not know about the required field, this will result in a breakage.";
    for number in prev_required.keys() {
        if !cur_required.contains_key(number) {
            let message = format!(
                "Message {} had required field \"{number}\" deleted. {tail}",
                quote(prev.name())
            );
            sink.report(ctx.at(cur.file, cur.path.clone()), Some(prev.file), message);
        }
    }
    for (number, &i) in &cur_required {
        if !prev_required.contains_key(number) {
            let message = format!(
                "Message {} had required field \"{number}\" added. {tail}",
                quote(cur.name())
            );
            let field = ctx.cur.field(pair.cur, i);
            sink.report(ctx.at(cur.file, field.path()), None, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: i64, end: i64) -> TagRange {
        TagRange {
            start,
            end,
            is_max: false,
        }
    }

    #[test]
    fn missing_parts_of_ranges() {
        let collapsed = collapse(&[r(1, 3), r(4, 5), r(10, 12)]);
        assert_eq!(collapsed, vec![(1, 5), (10, 12)]);
        assert_eq!(find_missing(1, 5, &collapsed), vec![]);
        assert_eq!(find_missing(1, 12, &collapsed), vec![(6, 9)]);
        assert_eq!(
            find_missing(0, 20, &collapsed),
            vec![(0, 0), (6, 9), (13, 20)]
        );
        assert_eq!(find_missing(6, 8, &collapsed), vec![(6, 8)]);
        assert_eq!(find_missing(1, 3, &[]), vec![(1, 3)]);
    }
}
