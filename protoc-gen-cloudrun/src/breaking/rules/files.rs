//! File-level values: package, syntax and the language options.

use super::{Ctx, FilePair};
use crate::breaking::descriptor::FileOptions;
use crate::breaking::finding::Sink;
use crate::breaking::gofmt::quote;

/// Reports `File <what> changed from "<prev>" to "<cur>".` at `path` in the current file (or on
/// the file when the current file does not state the value).
fn same_value(
    ctx: &Ctx<'_, '_, '_>,
    pair: FilePair,
    sink: &mut Sink<'_>,
    what: &str,
    prev: &str,
    cur: &str,
    path: &[i32],
) {
    if prev != cur {
        let message = format!(
            "File {what} changed from {} to {}.",
            quote(prev),
            quote(cur)
        );
        sink.report(ctx.at(pair.cur, path.to_vec()), Some(pair.prev), message);
    }
}

fn options<'a>(
    ctx: &'a Ctx<'_, '_, '_>,
    pair: FilePair,
) -> (Option<&'a FileOptions>, Option<&'a FileOptions>) {
    (
        ctx.prev.file(pair.prev).proto.options.as_ref(),
        ctx.cur.file(pair.cur).proto.options.as_ref(),
    )
}

macro_rules! string_option {
    ($fn:ident, $field:ident, $name:literal, $number:literal) => {
        pub(super) fn $fn(ctx: &Ctx<'_, '_, '_>, pair: FilePair, sink: &mut Sink<'_>) {
            let (p, c) = options(ctx, pair);
            let get =
                |o: Option<&FileOptions>| o.and_then(|o| o.$field.clone()).unwrap_or_default();
            same_value(
                ctx,
                pair,
                sink,
                concat!("option \"", $name, "\""),
                &get(p),
                &get(c),
                &[8, $number],
            );
        }
    };
}

macro_rules! bool_option {
    ($fn:ident, $field:ident, $name:literal, $number:literal) => {
        bool_option!($fn, $field, $name, $number, false);
    };
    ($fn:ident, $field:ident, $name:literal, $number:literal, $default:literal) => {
        pub(super) fn $fn(ctx: &Ctx<'_, '_, '_>, pair: FilePair, sink: &mut Sink<'_>) {
            let (p, c) = options(ctx, pair);
            let get =
                |o: Option<&FileOptions>| o.and_then(|o| o.$field).unwrap_or($default).to_string();
            same_value(
                ctx,
                pair,
                sink,
                concat!("option \"", $name, "\""),
                &get(p),
                &get(c),
                &[8, $number],
            );
        }
    };
}

string_option!(
    same_csharp_namespace,
    csharp_namespace,
    "csharp_namespace",
    37
);
string_option!(same_go_package, go_package, "go_package", 11);
string_option!(
    same_java_outer_classname,
    java_outer_classname,
    "java_outer_classname",
    8
);
string_option!(same_java_package, java_package, "java_package", 1);
string_option!(
    same_objc_class_prefix,
    objc_class_prefix,
    "objc_class_prefix",
    36
);
string_option!(
    same_php_class_prefix,
    php_class_prefix,
    "php_class_prefix",
    40
);
string_option!(
    same_php_metadata_namespace,
    php_metadata_namespace,
    "php_metadata_namespace",
    44
);
string_option!(same_php_namespace, php_namespace, "php_namespace", 41);
string_option!(same_ruby_package, ruby_package, "ruby_package", 45);
string_option!(same_swift_prefix, swift_prefix, "swift_prefix", 39);
// descriptor.proto declares `cc_enable_arenas` with `[default = true]`.
bool_option!(
    same_cc_enable_arenas,
    cc_enable_arenas,
    "cc_enable_arenas",
    31,
    true
);
bool_option!(
    same_cc_generic_services,
    cc_generic_services,
    "cc_generic_services",
    16
);
bool_option!(
    same_java_generic_services,
    java_generic_services,
    "java_generic_services",
    17
);
bool_option!(
    same_java_multiple_files,
    java_multiple_files,
    "java_multiple_files",
    10
);
bool_option!(
    same_py_generic_services,
    py_generic_services,
    "py_generic_services",
    18
);

pub(super) fn same_optimize_for(ctx: &Ctx<'_, '_, '_>, pair: FilePair, sink: &mut Sink<'_>) {
    let (p, c) = options(ctx, pair);
    let name = |o: Option<&FileOptions>| match o.and_then(|o| o.optimize_for).unwrap_or(1) {
        1 => "SPEED".to_string(),
        2 => "CODE_SIZE".to_string(),
        3 => "LITE_RUNTIME".to_string(),
        other => other.to_string(),
    };
    same_value(
        ctx,
        pair,
        sink,
        "option \"optimize_for\"",
        &name(p),
        &name(c),
        &[8, 9],
    );
}

pub(super) fn same_syntax(ctx: &Ctx<'_, '_, '_>, pair: FilePair, sink: &mut Sink<'_>) {
    let prev = ctx.prev.file(pair.prev).syntax.as_str();
    let cur = ctx.cur.file(pair.cur).syntax.as_str();
    same_value(ctx, pair, sink, "syntax", prev, cur, &[12]);
}

pub(super) fn same_package(ctx: &Ctx<'_, '_, '_>, pair: FilePair, sink: &mut Sink<'_>) {
    let prev = ctx.prev.file(pair.prev).package;
    let cur = ctx.cur.file(pair.cur).package;
    same_value(ctx, pair, sink, "package", prev, cur, &[2]);
}
