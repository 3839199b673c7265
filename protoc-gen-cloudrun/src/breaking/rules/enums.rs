//! Rules judging a matched enum and its values.

use std::collections::{BTreeMap, HashSet};

use super::messages::{ENUM_MAX, TagRange, check_tag_ranges};
use super::{Ctx, EnumPair, EnumValuePair};
use crate::breaking::descriptor::EnumValueProto;
use crate::breaking::finding::{Deleted, Deletion, Sink};
use crate::breaking::gofmt::{join_quoted, quote};
use crate::breaking::model::{EnumRef, feature, opt_bool};

pub(super) fn same_type(ctx: &Ctx<'_, '_, '_>, pair: EnumPair, sink: &mut Sink<'_>) {
    let prev = &ctx.prev.enums[pair.prev as usize];
    let cur = &ctx.cur.enums[pair.cur as usize];
    if prev.is_closed() != cur.is_closed() {
        let (from, to) = if cur.is_closed() {
            ("open", "closed")
        } else {
            ("closed", "open")
        };
        let mut feature_path = cur.path.clone();
        feature_path.extend_from_slice(&[3, 7, 2]);
        let loc = ctx.first_of(cur.file, &[feature_path, cur.path.clone()]);
        let message = format!("Enum {} changed from {from} to {to}.", quote(cur.name()));
        sink.report(loc, Some(prev.file), message);
    }
}

pub(super) fn same_json_format(ctx: &Ctx<'_, '_, '_>, pair: EnumPair, sink: &mut Sink<'_>) {
    let prev = &ctx.prev.enums[pair.prev as usize];
    let cur = &ctx.cur.enums[pair.cur as usize];
    let (p, c) = (prev.features.json_format, cur.features.json_format);
    if p == feature::JSON_ALLOW && c != feature::JSON_ALLOW {
        let mut feature_path = cur.path.clone();
        feature_path.extend_from_slice(&[3, 7, 6]);
        let loc = ctx.first_of(cur.file, &[feature_path, cur.path.clone()]);
        let message = format!(
            "Enum {} JSON format support changed from {} to {}.",
            quote(cur.name()),
            feature::json_name(p),
            feature::json_name(c)
        );
        sink.report(loc, Some(prev.file), message);
    }
}

/// Enum ranges, already inclusive in descriptors.
fn enum_ranges(e: &EnumRef<'_>) -> Vec<TagRange> {
    e.proto
        .reserved_range
        .iter()
        .map(|r| {
            let end = i64::from(r.end.unwrap_or(0));
            TagRange {
                start: i64::from(r.start.unwrap_or(0)),
                end,
                is_max: end == ENUM_MAX,
            }
        })
        .collect()
}

pub(crate) fn enum_reserves_number(e: &EnumRef<'_>, number: i32) -> bool {
    e.proto
        .reserved_range
        .iter()
        .any(|r| r.start.unwrap_or(0) <= number && number <= r.end.unwrap_or(0))
}

pub(crate) fn enum_reserves_name(e: &EnumRef<'_>, name: &str) -> bool {
    e.proto.reserved_name.iter().any(|n| n == name)
}

pub(super) fn reserved_no_delete(ctx: &Ctx<'_, '_, '_>, pair: EnumPair, sink: &mut Sink<'_>) {
    let prev = &ctx.prev.enums[pair.prev as usize];
    let cur = &ctx.cur.enums[pair.cur as usize];
    let loc = ctx.at(cur.file, cur.path.clone());
    check_tag_ranges(
        sink,
        "reserved",
        "enum",
        cur.name(),
        ENUM_MAX,
        &enum_ranges(prev),
        &enum_ranges(cur),
        loc.clone(),
        prev.file,
    );
    let names: HashSet<&str> = cur.proto.reserved_name.iter().map(String::as_str).collect();
    let mut seen = HashSet::new();
    for name in &prev.proto.reserved_name {
        if !names.contains(name.as_str()) && seen.insert(name.as_str()) {
            let message = format!(
                "Previously present reserved name {} on enum {} was deleted.",
                quote(name),
                quote(cur.name())
            );
            sink.report(loc.clone(), Some(prev.file), message);
        }
    }
}

/// Values grouped by number, names sorted (the order buf prints them in).
fn by_number<'a>(e: &EnumRef<'a>) -> BTreeMap<i32, Vec<&'a EnumValueProto>> {
    let mut map: BTreeMap<i32, Vec<&EnumValueProto>> = BTreeMap::new();
    for v in &e.proto.value {
        map.entry(v.number.unwrap_or(0)).or_default().push(v);
    }
    for values in map.values_mut() {
        values.sort_by(|a, b| a.name.cmp(&b.name));
        values.dedup_by(|a, b| a.name == b.name);
    }
    map
}

fn value_name(v: &EnumValueProto) -> &str {
    v.name.as_deref().unwrap_or("")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Unless {
    Never,
    NumberReserved,
    NameReserved,
}

fn value_no_delete_with(
    ctx: &Ctx<'_, '_, '_>,
    pair: EnumPair,
    sink: &mut Sink<'_>,
    unless: Unless,
) {
    let prev = &ctx.prev.enums[pair.prev as usize];
    let cur = &ctx.cur.enums[pair.cur as usize];
    let cur_numbers: HashSet<i32> = cur
        .proto
        .value
        .iter()
        .map(|v| v.number.unwrap_or(0))
        .collect();
    for (number, values) in by_number(prev) {
        if cur_numbers.contains(&number) {
            continue;
        }
        let names: Vec<&str> = values.iter().map(|v| value_name(v)).collect();
        let number_reserved = enum_reserves_number(cur, number);
        let names_reserved = names.iter().all(|n| enum_reserves_name(cur, n));
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
                names_reserved,
                format!(
                    " without reserving the name{} {}",
                    if names.len() > 1 { "s" } else { "" },
                    join_quoted(names.iter().copied(), ", ")
                ),
            ),
        };
        if allowed {
            continue;
        }
        let deprecated = prev.deprecated
            || values
                .iter()
                .all(|v| opt_bool(v.options.as_ref().and_then(|o| o.deprecated)));
        let message = format!(
            "Previously present enum value \"{number}\" on enum {} was deleted{suffix}.",
            quote(cur.name())
        );
        sink.report(ctx.at(cur.file, cur.path.clone()), Some(prev.file), message)
            .deletion = Some(Deletion {
            what: Deleted::EnumValue {
                number,
                names: names.iter().map(|n| n.to_string()).collect(),
                number_reserved,
                names_reserved,
            },
            deprecated,
        });
    }
}

pub(super) fn value_no_delete(ctx: &Ctx<'_, '_, '_>, pair: EnumPair, sink: &mut Sink<'_>) {
    value_no_delete_with(ctx, pair, sink, Unless::Never);
}

pub(super) fn value_no_delete_unless_number_reserved(
    ctx: &Ctx<'_, '_, '_>,
    pair: EnumPair,
    sink: &mut Sink<'_>,
) {
    value_no_delete_with(ctx, pair, sink, Unless::NumberReserved);
}

pub(super) fn value_no_delete_unless_name_reserved(
    ctx: &Ctx<'_, '_, '_>,
    pair: EnumPair,
    sink: &mut Sink<'_>,
) {
    value_no_delete_with(ctx, pair, sink, Unless::NameReserved);
}

pub(super) fn value_same_name(ctx: &Ctx<'_, '_, '_>, pair: &EnumValuePair, sink: &mut Sink<'_>) {
    let prev = &ctx.prev.enums[pair.enums.prev as usize];
    let cur = &ctx.cur.enums[pair.enums.cur as usize];
    let sorted_names = |e: &EnumRef<'_>, indexes: &[usize]| -> Vec<String> {
        let mut names: Vec<String> = indexes
            .iter()
            .map(|&i| value_name(&e.proto.value[i]).to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let prev_names = sorted_names(prev, &pair.prev);
    let cur_names = sorted_names(cur, &pair.cur);
    if prev_names.iter().all(|n| cur_names.contains(n)) {
        return;
    }
    let suffix = if prev_names.len() > 1 && cur_names.len() > 1 {
        "s"
    } else {
        ""
    };
    let from = join_quoted(prev_names.iter().map(String::as_str), ", ");
    let to = join_quoted(cur_names.iter().map(String::as_str), ", ");
    let mut seen = HashSet::new();
    for &i in &pair.cur {
        let value = &cur.proto.value[i];
        if !seen.insert(value_name(value)) {
            continue;
        }
        let mut path = cur.path.clone();
        path.extend_from_slice(&[2, i as i32, 2]);
        let message = format!(
            "Enum value \"{}\" on enum {} changed name{suffix} from {from} to {to}.",
            value.number.unwrap_or(0),
            quote(cur.name())
        );
        sink.report(ctx.at(cur.file, path), Some(prev.file), message);
    }
}
