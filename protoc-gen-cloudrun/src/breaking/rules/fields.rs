//! Rules judging a matched field (or extension): type, cardinality, names, defaults, options.

use std::collections::HashMap;

use super::{Ctx, FieldPair, field_description, field_description_with_name};
use crate::breaking::descriptor::{edition, field_type, label};
use crate::breaking::finding::Sink;
use crate::breaking::gofmt::{self, quote};
use crate::breaking::model::{Cardinality, FieldView, Index, Kind, Syntax, feature};

pub(super) fn same_cardinality(ctx: &Ctx<'_, '_, '_>, pair: &FieldPair<'_>, sink: &mut Sink<'_>) {
    cardinality_change(ctx, pair, sink, |c| c as u8 as i32);
}

pub(super) fn wire_compatible_cardinality(
    ctx: &Ctx<'_, '_, '_>,
    pair: &FieldPair<'_>,
    sink: &mut Sink<'_>,
) {
    cardinality_change(ctx, pair, sink, |c| match c {
        Cardinality::OptionalExplicit | Cardinality::OptionalImplicit => 1,
        Cardinality::Required => 2,
        Cardinality::Repeated | Cardinality::Map => 3,
    });
}

pub(super) fn wire_json_compatible_cardinality(
    ctx: &Ctx<'_, '_, '_>,
    pair: &FieldPair<'_>,
    sink: &mut Sink<'_>,
) {
    cardinality_change(ctx, pair, sink, |c| match c {
        Cardinality::OptionalExplicit | Cardinality::OptionalImplicit => 1,
        Cardinality::Required => 2,
        Cardinality::Repeated => 3,
        // Maps and repeated fields have different JSON forms.
        Cardinality::Map => 4,
    });
}

/// Reports a cardinality change when the two cardinalities fall in different groups.
fn cardinality_change(
    ctx: &Ctx<'_, '_, '_>,
    pair: &FieldPair<'_>,
    sink: &mut Sink<'_>,
    group: fn(Cardinality) -> i32,
) {
    // Map entries are generated; presence as they report it means nothing, so buf skips them.
    if ctx.prev.in_map_entry(&pair.prev) && ctx.cur.in_map_entry(&pair.cur) {
        return;
    }
    let prev = ctx.prev.cardinality(&pair.prev);
    let cur = ctx.cur.cardinality(&pair.cur);
    if group(prev) != group(cur) {
        let message = format!(
            "{} changed cardinality from {} to {}.",
            field_description(ctx.cur, &pair.cur),
            quote(prev.as_str()),
            quote(cur.as_str())
        );
        sink.report(
            ctx.at(pair.cur.file, pair.cur.path()),
            Some(pair.prev.file),
            message,
        );
    }
}

/// The C++ string type of a string or bytes field, and whether it is the legacy STRING_PIECE.
fn cpp_string_type(ix: &Index<'_>, f: &FieldView<'_>) -> (i32, bool) {
    let file = ix.file(f.file);
    if file.proto.edition.unwrap_or(0) < edition::E2024 {
        match f.ctype() {
            Some(1) => return (feature::CPP_CORD, false),
            Some(2) => return (feature::CPP_STRING, true),
            Some(0) => return (feature::CPP_STRING, false),
            // Edition 2023 may state the type either way; fall through to the feature.
            Some(_) if file.syntax != Syntax::Editions => return (feature::CPP_STRING, false),
            _ => {}
        }
    }
    (f.features.cpp_string_type, false)
}

pub(super) fn same_cpp_string_type(
    ctx: &Ctx<'_, '_, '_>,
    pair: &FieldPair<'_>,
    sink: &mut Sink<'_>,
) {
    if ctx.prev.in_map_entry(&pair.prev) && ctx.cur.in_map_entry(&pair.cur) {
        return;
    }
    let stringish = |k: Kind| matches!(k, Kind::String | Kind::Bytes);
    if !stringish(ctx.prev.kind(&pair.prev)) || !stringish(ctx.cur.kind(&pair.cur)) {
        return;
    }
    let (prev_type, prev_piece) = cpp_string_type(ctx.prev, &pair.prev);
    let (cur_type, cur_piece) = cpp_string_type(ctx.cur, &pair.cur);
    // Moving from STRING_PIECE to STRING is not breaking.
    if (prev_type != cur_type || prev_piece != cur_piece)
        && !(prev_piece && cur_type == feature::CPP_STRING)
    {
        let name = |t: i32, piece: bool| {
            if piece {
                "STRING_PIECE".to_string()
            } else {
                feature::cpp_name(t)
            }
        };
        let loc = ctx.first_of(
            pair.cur.file,
            &[
                pair.cur.path_with(&[8, 1]),
                pair.cur.path_with(&[8, 21, 1000, 2]),
                pair.cur.path_with(&[8, 21, 1000]),
                pair.cur.path_with(&[8, 21]),
                pair.cur.path(),
            ],
        );
        let message = format!(
            "{} changed C++ string type from {} to {}.",
            field_description(ctx.cur, &pair.cur),
            quote(&name(prev_type, prev_piece)),
            quote(&name(cur_type, cur_piece))
        );
        sink.report(loc, Some(pair.prev.file), message);
    }
}

/// Java's UTF-8 validation of a string field: the file option outside editions (or when set),
/// else the `(pb.java).utf8_validation` feature; anything but VERIFY falls back to the
/// field's standard `utf8_validation`.
fn java_utf8_validation(ix: &Index<'_>, f: &FieldView<'_>) -> i32 {
    let default = f.features.utf8_validation;
    let file = ix.file(f.file);
    let option = file
        .proto
        .options
        .as_ref()
        .and_then(|o| o.java_string_check_utf8);
    if file.syntax != Syntax::Editions || option.is_some() {
        return if option == Some(true) {
            feature::UTF8_VERIFY
        } else {
            default
        };
    }
    if f.features.java_utf8_validation == feature::JAVA_VERIFY {
        feature::UTF8_VERIFY
    } else {
        default
    }
}

pub(super) fn same_java_utf8_validation(
    ctx: &Ctx<'_, '_, '_>,
    pair: &FieldPair<'_>,
    sink: &mut Sink<'_>,
) {
    if ctx.prev.kind(&pair.prev) != Kind::String || ctx.cur.kind(&pair.cur) != Kind::String {
        return;
    }
    let prev = java_utf8_validation(ctx.prev, &pair.prev);
    let cur = java_utf8_validation(ctx.cur, &pair.cur);
    if prev != cur {
        let loc = ctx.first_of(
            pair.cur.file,
            &[
                vec![8, 27],
                pair.cur.path_with(&[8, 21, 1001, 2]),
                pair.cur.path_with(&[8, 21, 1001]),
                pair.cur.path_with(&[8, 21]),
                pair.cur.path(),
            ],
        );
        let message = format!(
            "{} changed Java string UTF8 validation from {} to {}.",
            field_description(ctx.cur, &pair.cur),
            quote(&feature::utf8_name(prev)),
            quote(&feature::utf8_name(cur))
        );
        sink.report(loc, Some(pair.prev.file), message);
    }
}

fn is_64bit_integer(t: i32) -> bool {
    use field_type::*;
    matches!(t, INT64 | SINT64 | UINT64 | FIXED64 | SFIXED64)
}

fn jstype_name(v: i32) -> String {
    match v {
        0 => "JS_NORMAL".into(),
        1 => "JS_STRING".into(),
        2 => "JS_NUMBER".into(),
        other => other.to_string(),
    }
}

pub(super) fn same_jstype(ctx: &Ctx<'_, '_, '_>, pair: &FieldPair<'_>, sink: &mut Sink<'_>) {
    if !is_64bit_integer(pair.prev.proto_type()) || !is_64bit_integer(pair.cur.proto_type()) {
        return;
    }
    let (prev, cur) = (pair.prev.jstype(), pair.cur.jstype());
    if prev != cur {
        let loc = ctx.first_of(
            pair.cur.file,
            &[pair.cur.path_with(&[8, 6]), pair.cur.path()],
        );
        let message = format!(
            "{} changed option \"jstype\" from {} to {}.",
            field_description(ctx.cur, &pair.cur),
            quote(&jstype_name(prev)),
            quote(&jstype_name(cur))
        );
        sink.report(loc, Some(pair.prev.file), message);
    }
}

pub(super) fn same_utf8_validation(
    ctx: &Ctx<'_, '_, '_>,
    pair: &FieldPair<'_>,
    sink: &mut Sink<'_>,
) {
    if ctx.prev.kind(&pair.prev) != Kind::String || ctx.cur.kind(&pair.cur) != Kind::String {
        return;
    }
    let (prev, cur) = (
        pair.prev.features.utf8_validation,
        pair.cur.features.utf8_validation,
    );
    if prev != cur {
        let loc = ctx.first_of(
            pair.cur.file,
            &[pair.cur.path_with(&[8, 21, 4]), pair.cur.path()],
        );
        let message = format!(
            "{} changed UTF8 validation from {} to {}.",
            field_description(ctx.cur, &pair.cur),
            feature::utf8_name(prev),
            feature::utf8_name(cur)
        );
        sink.report(loc, Some(pair.prev.file), message);
    }
}

/// How buf names a kind in type-change messages: editions' delimited messages are spelled out.
fn pretty_kind(ix: &Index<'_>, f: &FieldView<'_>, kind: Kind) -> String {
    if kind == Kind::Group && ix.file(f.file).syntax != Syntax::Proto2 {
        "message (delimited encoding)".into()
    } else {
        kind.name()
    }
}

/// `<field> changed type from "<kind>" to "<kind>".<extra>`, at the field's type (or type
/// name, for messages, enums and groups).
fn changed_kind(ctx: &Ctx<'_, '_, '_>, pair: &FieldPair<'_>, sink: &mut Sink<'_>, extra: &str) {
    let prev_kind = ctx.prev.kind(&pair.prev);
    let cur_kind = ctx.cur.kind(&pair.cur);
    let suffix = if matches!(cur_kind, Kind::Message | Kind::Enum | Kind::Group) {
        6
    } else {
        5
    };
    let extra = if extra.trim().is_empty() {
        String::new()
    } else {
        format!(" {}", extra.trim())
    };
    let message = format!(
        "{} changed type from {} to {}.{extra}",
        field_description(ctx.cur, &pair.cur),
        quote(&pretty_kind(ctx.prev, &pair.prev, prev_kind)),
        quote(&pretty_kind(ctx.cur, &pair.cur, cur_kind))
    );
    sink.report(
        ctx.at(pair.cur.file, pair.cur.path_with(&[suffix])),
        Some(pair.prev.file),
        message,
    );
}

/// `<field> changed type from "<type name>" to "<type name>".`, at the type name.
fn changed_type_name(ctx: &Ctx<'_, '_, '_>, pair: &FieldPair<'_>, sink: &mut Sink<'_>) {
    let trim = |s: &str| s.strip_prefix('.').unwrap_or(s).to_string();
    let message = format!(
        "{} changed type from {} to {}.",
        field_description(ctx.cur, &pair.cur),
        quote(&trim(pair.prev.type_name())),
        quote(&trim(pair.cur.type_name()))
    );
    sink.report(
        ctx.at(pair.cur.file, pair.cur.path_with(&[6])),
        Some(pair.prev.file),
        message,
    );
}

pub(super) fn same_type(ctx: &Ctx<'_, '_, '_>, pair: &FieldPair<'_>, sink: &mut Sink<'_>) {
    if ctx.prev.kind(&pair.prev) != ctx.cur.kind(&pair.cur) {
        changed_kind(ctx, pair, sink, "");
        return;
    }
    if matches!(
        pair.cur.proto_type(),
        field_type::ENUM | field_type::GROUP | field_type::MESSAGE
    ) && pair.prev.type_name() != pair.cur.type_name()
    {
        changed_type_name(ctx, pair, sink);
    }
}

fn wire_group(k: Kind) -> Option<u8> {
    Some(match k {
        Kind::Int32 | Kind::Int64 | Kind::Uint32 | Kind::Uint64 | Kind::Bool => 1,
        Kind::Sint32 | Kind::Sint64 => 2,
        Kind::String => 3,
        Kind::Bytes => 4,
        Kind::Fixed32 | Kind::Sfixed32 => 5,
        Kind::Fixed64 | Kind::Sfixed64 => 6,
        Kind::Double => 7,
        Kind::Float => 8,
        Kind::Group => 9,
        Kind::Message => 10,
        Kind::Enum => 11,
        Kind::Unknown(_) => return None,
    })
}

fn wire_json_group(k: Kind) -> Option<u8> {
    Some(match k {
        Kind::Int32 | Kind::Uint32 => 1,
        Kind::Int64 | Kind::Uint64 => 2,
        Kind::Fixed32 | Kind::Sfixed32 => 3,
        Kind::Fixed64 | Kind::Sfixed64 => 4,
        Kind::Bool => 5,
        Kind::Sint32 => 6,
        Kind::Sint64 => 7,
        Kind::String => 8,
        Kind::Bytes => 9,
        Kind::Double => 10,
        Kind::Float => 11,
        Kind::Group => 12,
        Kind::Message => 13,
        Kind::Enum => 14,
        Kind::Unknown(_) => return None,
    })
}

const WIRE_RULES: &str = "See https://developers.google.com/protocol-buffers/docs/proto3#updating for wire compatibility rules.";
const BYTES_TO_STRING: &str = "Note that while string and bytes are compatible if the data is valid UTF-8, there is no way to enforce that a bytes field is UTF-8, so these fields may be incompatible.";
const WIRE_JSON_RULES: &str = "See https://developers.google.com/protocol-buffers/docs/proto3#updating for wire compatibility rules and https://developers.google.com/protocol-buffers/docs/proto3#json for JSON compatibility rules.";

/// An enum field switched enums: fine on the wire when the enum has the same short name and
/// keeps every previous value (by name, with the same number).
fn enum_wire_compatible(ctx: &Ctx<'_, '_, '_>, pair: &FieldPair<'_>, sink: &mut Sink<'_>) {
    let (Some(prev), Some(cur)) = (
        ctx.prev.enum_by_type_name(pair.prev.type_name()),
        ctx.cur.enum_by_type_name(pair.cur.type_name()),
    ) else {
        return;
    };
    if prev.name() != cur.name() {
        changed_type_name(ctx, pair, sink);
        return;
    }
    let cur_values: HashMap<&str, i32> = cur
        .proto
        .value
        .iter()
        .map(|v| (v.name.as_deref().unwrap_or(""), v.number.unwrap_or(0)))
        .collect();
    let subset =
        prev.proto.value.iter().all(|v| {
            cur_values.get(v.name.as_deref().unwrap_or("")) == Some(&v.number.unwrap_or(0))
        });
    if !subset {
        changed_type_name(ctx, pair, sink);
    }
}

pub(super) fn wire_compatible_type(
    ctx: &Ctx<'_, '_, '_>,
    pair: &FieldPair<'_>,
    sink: &mut Sink<'_>,
) {
    let prev_kind = ctx.prev.kind(&pair.prev);
    let cur_kind = ctx.cur.kind(&pair.cur);
    let (Some(pg), Some(cg)) = (wire_group(prev_kind), wire_group(cur_kind)) else {
        return;
    };
    if pg != cg {
        match (prev_kind, cur_kind) {
            // Evolving string to bytes is fine.
            (Kind::String, Kind::Bytes) => {}
            (Kind::Bytes, Kind::String) => {
                changed_kind(ctx, pair, sink, &format!("{WIRE_RULES} {BYTES_TO_STRING}"))
            }
            _ => changed_kind(ctx, pair, sink, WIRE_RULES),
        }
        return;
    }
    match pair.cur.proto_type() {
        field_type::ENUM if pair.prev.type_name() != pair.cur.type_name() => {
            enum_wire_compatible(ctx, pair, sink)
        }
        field_type::GROUP | field_type::MESSAGE
            if pair.prev.type_name() != pair.cur.type_name() =>
        {
            changed_type_name(ctx, pair, sink)
        }
        _ => {}
    }
}

pub(super) fn wire_json_compatible_type(
    ctx: &Ctx<'_, '_, '_>,
    pair: &FieldPair<'_>,
    sink: &mut Sink<'_>,
) {
    let prev_kind = ctx.prev.kind(&pair.prev);
    let cur_kind = ctx.cur.kind(&pair.cur);
    let (Some(pg), Some(cg)) = (wire_json_group(prev_kind), wire_json_group(cur_kind)) else {
        return;
    };
    if pg != cg {
        changed_kind(ctx, pair, sink, WIRE_JSON_RULES);
        return;
    }
    match cur_kind {
        Kind::Enum if pair.prev.type_name() != pair.cur.type_name() => {
            enum_wire_compatible(ctx, pair, sink)
        }
        Kind::Group | Kind::Message if pair.prev.type_name() != pair.cur.type_name() => {
            changed_type_name(ctx, pair, sink)
        }
        _ => {}
    }
}

pub(super) fn same_json_name(ctx: &Ctx<'_, '_, '_>, pair: &FieldPair<'_>, sink: &mut Sink<'_>) {
    // Extensions cannot set a JSON name.
    if pair.prev.is_extension() {
        return;
    }
    let (prev, cur) = (pair.prev.json_name(), pair.cur.json_name());
    if prev != cur {
        let loc = ctx.first_of(pair.cur.file, &[pair.cur.path_with(&[10]), pair.cur.path()]);
        let message = format!(
            "{} changed option \"json_name\" from {} to {}.",
            field_description(ctx.cur, &pair.cur),
            quote(&prev),
            quote(&cur)
        );
        sink.report(loc, Some(pair.prev.file), message);
    }
}

pub(super) fn same_name(ctx: &Ctx<'_, '_, '_>, pair: &FieldPair<'_>, sink: &mut Sink<'_>) {
    let (prev, cur) = match (pair.prev.extension_full_name, pair.cur.extension_full_name) {
        (Some(p), Some(c)) => (p, c),
        _ => (pair.prev.name(), pair.cur.name()),
    };
    if prev != cur {
        let loc = ctx.first_of(pair.cur.file, &[pair.cur.path_with(&[1]), pair.cur.path()]);
        let message = format!(
            "{} changed name from {} to {}.",
            field_description_with_name(ctx.cur, &pair.cur, ""),
            quote(prev),
            quote(cur)
        );
        sink.report(loc, Some(pair.prev.file), message);
    }
}

pub(super) fn same_oneof(ctx: &Ctx<'_, '_, '_>, pair: &FieldPair<'_>, sink: &mut Sink<'_>) {
    // Extensions cannot be in oneofs.
    if pair.prev.is_extension() {
        return;
    }
    let prev = ctx.prev.real_oneof(&pair.prev);
    let cur = ctx.cur.real_oneof(&pair.cur);
    let message = match (prev, cur) {
        (None, None) => return,
        (Some(p), Some(c)) if p == c => return,
        // buf's message has a stray "q" here; reproduced so that outputs match.
        (Some(p), Some(c)) => format!(
            "{}q moved from oneof {} to oneof {}.",
            field_description(ctx.cur, &pair.cur),
            quote(p),
            quote(c)
        ),
        (Some(_), None) => format!(
            "{} moved from inside to outside a oneof.",
            field_description(ctx.cur, &pair.cur)
        ),
        (None, Some(_)) => format!(
            "{} moved from outside to inside a oneof.",
            field_description(ctx.cur, &pair.cur)
        ),
    };
    sink.report(
        ctx.at(pair.cur.file, pair.cur.path()),
        Some(pair.prev.file),
        message,
    );
}

/// A default value as buf compares it.
#[derive(Clone, Debug, PartialEq)]
enum DefaultValue {
    /// Strings and bytes compare by content.
    Text(Vec<u8>),
    Bool(bool),
    Int(i128),
    F32(f32),
    F64(f64),
}

impl DefaultValue {
    fn is_zero(&self) -> bool {
        match self {
            DefaultValue::Text(t) => t.is_empty(),
            DefaultValue::Bool(b) => !b,
            DefaultValue::Int(i) => *i == 0,
            // Go's reflect.Value.IsZero compares float bits: -0 and NaN are not zero.
            DefaultValue::F32(f) => f.to_bits() == 0,
            DefaultValue::F64(f) => f.to_bits() == 0,
        }
    }
}

/// buf's `defaultsEqual`: strings by content, float32/float64 at float32 precision, everything
/// else numerically (bools as 0/1).
fn defaults_equal(a: &DefaultValue, b: &DefaultValue) -> bool {
    use DefaultValue::*;
    match (a, b) {
        (Text(x), Text(y)) => x == y,
        (Text(_), _) | (_, Text(_)) => false,
        (F32(x), F64(y)) | (F64(y), F32(x)) => (x.is_nan() && y.is_nan()) || *x == *y as f32,
        _ => {
            let num = |v: &DefaultValue| -> Result<i128, f64> {
                match v {
                    Bool(b) => Ok(i128::from(*b)),
                    Int(i) => Ok(*i),
                    F32(f) => Err(f64::from(*f)),
                    F64(f) => Err(*f),
                    Text(_) => Ok(0),
                }
            };
            match (num(a), num(b)) {
                (Ok(x), Ok(y)) => x == y,
                (Err(x), Err(y)) => (x.is_nan() && y.is_nan()) || x == y,
                (Ok(i), Err(f)) | (Err(f), Ok(i)) => {
                    !f.is_nan() && f.fract() == 0.0 && f.abs() < 1.7e38 && f as i128 == i
                }
            }
        }
    }
}

/// Unescapes protoc's C-escaped bytes defaults.
fn unescape_bytes(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        i += 1;
        match b[i] {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'x' | b'X' => {
                let mut v: u32 = 0;
                let mut n = 0;
                while n < 2 && i + 1 < b.len() && (b[i + 1] as char).is_ascii_hexdigit() {
                    i += 1;
                    v = v * 16 + (b[i] as char).to_digit(16).unwrap_or(0);
                    n += 1;
                }
                out.push(v as u8);
            }
            d @ b'0'..=b'7' => {
                let mut v: u32 = u32::from(d - b'0');
                let mut n = 1;
                while n < 3 && i + 1 < b.len() && (b'0'..=b'7').contains(&b[i + 1]) {
                    i += 1;
                    v = v * 8 + u32::from(b[i] - b'0');
                    n += 1;
                }
                out.push(v as u8);
            }
            other => out.push(other),
        }
        i += 1;
    }
    out
}

/// The field's default as buf reads it, with the text buf prints for it.
fn default_of(ix: &Index<'_>, f: &FieldView<'_>, kind: Kind) -> (DefaultValue, String) {
    let raw = f.proto.default_value.as_deref();
    match kind {
        Kind::Bytes => {
            let data = unescape_bytes(raw.unwrap_or(""));
            let printable = data
                .iter()
                .map(|b| format!("0x{b:X}"))
                .collect::<Vec<_>>()
                .join(",");
            (DefaultValue::Text(data), format!("[{printable}]"))
        }
        Kind::String => {
            let s = raw.unwrap_or("");
            (DefaultValue::Text(s.as_bytes().to_vec()), quote(s))
        }
        Kind::Enum => {
            let e = ix.enum_by_type_name(f.type_name());
            let number = match (raw, e) {
                (Some(name), Some(e)) => e
                    .proto
                    .value
                    .iter()
                    .find(|v| v.name.as_deref() == Some(name))
                    .and_then(|v| v.number)
                    .unwrap_or(0),
                // Without a default, an enum field defaults to its first value.
                (None, Some(e)) => e.proto.value.first().and_then(|v| v.number).unwrap_or(0),
                _ => 0,
            };
            let printable = match e {
                Some(e) => match e.proto.value.iter().find(|v| v.number == Some(number)) {
                    Some(v) => format!("{}.{}", e.name(), v.name.as_deref().unwrap_or("")),
                    None => format!("{}.{number}(?)", e.name()),
                },
                None => format!(".{number}(?)"),
            };
            (DefaultValue::Int(i128::from(number)), printable)
        }
        Kind::Bool => {
            let v = raw == Some("true");
            (DefaultValue::Bool(v), v.to_string())
        }
        Kind::Float => {
            let v = raw.map(parse_float).unwrap_or(0.0) as f32;
            (DefaultValue::F32(v), gofmt::float32(v))
        }
        Kind::Double => {
            let v = raw.map(parse_float).unwrap_or(0.0);
            (DefaultValue::F64(v), gofmt::float64(v))
        }
        _ => {
            let v: i128 = raw.and_then(|s| s.trim().parse().ok()).unwrap_or(0);
            (DefaultValue::Int(v), v.to_string())
        }
    }
}

fn parse_float(s: &str) -> f64 {
    match s.trim() {
        "inf" | "+inf" | "infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        "nan" | "-nan" => f64::NAN,
        other => other.parse().unwrap_or(0.0),
    }
}

pub(super) fn same_default(ctx: &Ctx<'_, '_, '_>, pair: &FieldPair<'_>, sink: &mut Sink<'_>) {
    let prev_kind = ctx.prev.kind(&pair.prev);
    let cur_kind = ctx.cur.kind(&pair.cur);
    let can_have_default = |f: &FieldView<'_>, k: Kind| {
        f.label() != label::REPEATED && !matches!(k, Kind::Message | Kind::Group)
    };
    if !can_have_default(&pair.prev, prev_kind) || !can_have_default(&pair.cur, cur_kind) {
        return;
    }
    let (prev, prev_text) = default_of(ctx.prev, &pair.prev, prev_kind);
    let (cur, cur_text) = default_of(ctx.cur, &pair.cur, cur_kind);
    if prev.is_zero() && cur.is_zero() {
        return;
    }
    if !defaults_equal(&prev, &cur) {
        let loc = ctx.first_of(pair.cur.file, &[pair.cur.path_with(&[7]), pair.cur.path()]);
        let message = format!(
            "{} changed default value from {prev_text} to {cur_text}.",
            field_description(ctx.cur, &pair.cur)
        );
        sink.report(loc, Some(pair.prev.file), message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_defaults_unescape() {
        assert_eq!(unescape_bytes(r"\001abc"), vec![1, b'a', b'b', b'c']);
        assert_eq!(unescape_bytes(r"\x41\n\\"), vec![b'A', b'\n', b'\\']);
    }

    #[test]
    fn defaults_compare_like_buf() {
        use DefaultValue::*;
        assert!(defaults_equal(&F32(0.1), &F64(0.1)));
        assert!(defaults_equal(&Int(1), &Bool(true)));
        assert!(defaults_equal(&F64(f64::NAN), &F64(f64::NAN)));
        assert!(!defaults_equal(&F64(f64::NAN), &Int(0)));
        assert!(!defaults_equal(&Text(b"1".to_vec()), &Int(1)));
        assert!(defaults_equal(&Int(5), &F64(5.0)));
    }
}
