//! Deletions of whole elements from a file or a package, and of files and packages.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{Ctx, FilePair};
use crate::breaking::finding::{Deleted, Deletion, Loc, Sink};
use crate::breaking::gofmt::quote;
use crate::breaking::model::Index;

fn element(deprecated: bool) -> Option<Deletion> {
    Some(Deletion {
        what: Deleted::Element,
        deprecated,
    })
}

/// Where buf points for an element deleted from a file that still exists: the nearest enclosing
/// message that still exists there, else the file itself.
fn deleted_element_loc(ctx: &Ctx<'_, '_, '_>, cur_file: u32, nested_name: &str) -> Option<Loc> {
    let package = ctx.cur.file(cur_file).package;
    let mut end = nested_name.len();
    while let Some(dot) = nested_name[..end].rfind('.') {
        let parent = &nested_name[..dot];
        let full = if package.is_empty() {
            parent.to_string()
        } else {
            format!("{package}.{parent}")
        };
        if let Some(&m) = ctx.cur.message_by_name.get(&full) {
            let msg = &ctx.cur.messages[m as usize];
            if msg.file == cur_file {
                return ctx.at(cur_file, msg.path.clone());
            }
        }
        end = dot;
    }
    ctx.file_only(cur_file)
}

pub(super) fn enum_no_delete(ctx: &Ctx<'_, '_, '_>, pair: FilePair, sink: &mut Sink<'_>) {
    let cur = &ctx.cur.file_ranges[pair.cur as usize].enums;
    let names: HashSet<&str> = cur
        .clone()
        .map(|i| ctx.cur.enums[i as usize].nested_name())
        .collect();
    for i in ctx.prev.file_ranges[pair.prev as usize].enums.clone() {
        let e = &ctx.prev.enums[i as usize];
        if !names.contains(e.nested_name()) {
            let loc = deleted_element_loc(ctx, pair.cur, e.nested_name());
            let message = format!(
                "Previously present enum {} was deleted from file.",
                quote(e.nested_name())
            );
            sink.report(loc, Some(pair.prev), message).deletion = element(e.deprecated);
        }
    }
}

pub(super) fn extension_no_delete(ctx: &Ctx<'_, '_, '_>, pair: FilePair, sink: &mut Sink<'_>) {
    let cur = &ctx.cur.file_ranges[pair.cur as usize].extensions;
    let names: HashSet<&str> = cur
        .clone()
        .map(|i| ctx.cur.extensions[i as usize].nested_name())
        .collect();
    for i in ctx.prev.file_ranges[pair.prev as usize].extensions.clone() {
        let x = &ctx.prev.extensions[i as usize];
        if !names.contains(x.nested_name()) {
            let loc = deleted_element_loc(ctx, pair.cur, x.nested_name());
            let message = format!(
                "Previously present extension {} was deleted from file.",
                quote(x.nested_name())
            );
            sink.report(loc, Some(pair.prev), message).deletion = element(x.deprecated);
        }
    }
}

pub(super) fn message_no_delete(ctx: &Ctx<'_, '_, '_>, pair: FilePair, sink: &mut Sink<'_>) {
    let cur = &ctx.cur.file_ranges[pair.cur as usize].messages;
    let names: HashSet<&str> = cur
        .clone()
        .map(|i| ctx.cur.messages[i as usize].nested_name())
        .collect();
    for i in ctx.prev.file_ranges[pair.prev as usize].messages.clone() {
        let m = &ctx.prev.messages[i as usize];
        if !names.contains(m.nested_name()) {
            let loc = deleted_element_loc(ctx, pair.cur, m.nested_name());
            let message = format!(
                "Previously present message {} was deleted from file.",
                quote(m.nested_name())
            );
            sink.report(loc, Some(pair.prev), message).deletion = element(m.deprecated);
        }
    }
}

pub(super) fn service_no_delete(ctx: &Ctx<'_, '_, '_>, pair: FilePair, sink: &mut Sink<'_>) {
    let cur = &ctx.cur.file_ranges[pair.cur as usize].services;
    let names: HashSet<&str> = cur
        .clone()
        .map(|i| ctx.cur.services[i as usize].name())
        .collect();
    for i in ctx.prev.file_ranges[pair.prev as usize].services.clone() {
        let s = &ctx.prev.services[i as usize];
        if !names.contains(s.name()) {
            let message = format!(
                "Previously present service {} was deleted from file.",
                quote(s.name())
            );
            sink.report(ctx.file_only(pair.cur), Some(pair.prev), message)
                .deletion = element(s.deprecated);
        }
    }
}

/// A file counts as deprecated when the file itself is, or when it declares something and every
/// top-level thing it declares is.
pub(crate) fn file_fully_deprecated(ix: &Index<'_>, file: u32) -> bool {
    let f = ix.file(file);
    if f.deprecated {
        return true;
    }
    let r = &ix.file_ranges[file as usize];
    let mut any = false;
    let mut all = true;
    let mut see = |deprecated: bool| {
        any = true;
        all &= deprecated;
    };
    for i in r.messages.clone() {
        let m = &ix.messages[i as usize];
        if m.parent.is_none() {
            see(m.deprecated);
        }
    }
    for i in r.enums.clone() {
        let e = &ix.enums[i as usize];
        if e.path.len() == 2 {
            see(e.deprecated);
        }
    }
    for i in r.services.clone() {
        see(ix.services[i as usize].deprecated);
    }
    for i in r.extensions.clone() {
        let x = &ix.extensions[i as usize];
        if x.scope.is_none() {
            see(x.deprecated);
        }
    }
    any && all
}

pub(super) fn file_no_delete(ctx: &Ctx<'_, '_, '_>, sink: &mut Sink<'_>) {
    for (i, f) in ctx.prev.files.iter().enumerate() {
        if !ctx.cur.file_by_path.contains_key(f.path) {
            let message = format!("Previously present file {} was deleted.", quote(f.path));
            sink.report(None, Some(i as u32), message).deletion =
                element(file_fully_deprecated(ctx.prev, i as u32));
        }
    }
}

/// Files per package, in path order (buf picks the first path to carry a package deletion).
fn files_by_package<'a>(ix: &'a Index<'_>) -> BTreeMap<&'a str, Vec<u32>> {
    let mut map: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for (i, f) in ix.files.iter().enumerate() {
        map.entry(f.package).or_default().push(i as u32);
    }
    for files in map.values_mut() {
        files.sort_by_key(|&i| ix.file(i).path);
    }
    map
}

pub(super) fn package_no_delete(ctx: &Ctx<'_, '_, '_>, sink: &mut Sink<'_>) {
    let cur: HashSet<&str> = ctx.cur.files.iter().map(|f| f.package).collect();
    for (package, files) in files_by_package(ctx.prev) {
        if !cur.contains(package) {
            let deprecated = files.iter().all(|&f| file_fully_deprecated(ctx.prev, f));
            let message = format!("Previously present package {} was deleted.", quote(package));
            sink.report(None, files.first().copied(), message).deletion = element(deprecated);
        }
    }
}

/// One deletable element of a package: its nested name, file, and deprecation.
struct Member<'a> {
    name: &'a str,
    file: u32,
    deprecated: bool,
}

/// Shared shape of the `PACKAGE_*_NO_DELETE` rules. `cur_packages` lists the packages buf's
/// maps have an entry for in the current version; `point_at_parent` says whether the finding
/// goes on the nearest enclosing message (enums, messages, extensions) or on the file
/// (services).
fn package_member_no_delete<'a>(
    ctx: &Ctx<'_, '_, '_>,
    sink: &mut Sink<'_>,
    kind: &str,
    prev: HashMap<&'a str, Vec<Member<'a>>>,
    cur: HashMap<&'a str, HashSet<&'a str>>,
    point_at_parent: bool,
) {
    for (package, members) in &prev {
        let Some(names) = cur.get(package) else {
            continue;
        };
        for member in members {
            if names.contains(member.name) {
                continue;
            }
            let prev_path = ctx.prev.file(member.file).path;
            let loc = match ctx.cur.file_by_path.get(prev_path) {
                Some(&file) if point_at_parent => deleted_element_loc(ctx, file, member.name),
                Some(&file) => ctx.file_only(file),
                None => None,
            };
            let message = format!(
                "Previously present {kind} {} was deleted from package {}.",
                quote(member.name),
                quote(package)
            );
            sink.report(loc, Some(member.file), message).deletion = element(member.deprecated);
        }
    }
}

pub(super) fn package_enum_no_delete(ctx: &Ctx<'_, '_, '_>, sink: &mut Sink<'_>) {
    let mut prev: HashMap<&str, Vec<Member<'_>>> = HashMap::new();
    for e in &ctx.prev.enums {
        prev.entry(ctx.prev.file(e.file).package)
            .or_default()
            .push(Member {
                name: e.nested_name(),
                file: e.file,
                deprecated: e.deprecated,
            });
    }
    let mut cur: HashMap<&str, HashSet<&str>> = HashMap::new();
    for e in &ctx.cur.enums {
        cur.entry(ctx.cur.file(e.file).package)
            .or_default()
            .insert(e.nested_name());
    }
    package_member_no_delete(ctx, sink, "enum", prev, cur, true);
}

pub(super) fn package_message_no_delete(ctx: &Ctx<'_, '_, '_>, sink: &mut Sink<'_>) {
    let mut prev: HashMap<&str, Vec<Member<'_>>> = HashMap::new();
    for m in &ctx.prev.messages {
        prev.entry(ctx.prev.file(m.file).package)
            .or_default()
            .push(Member {
                name: m.nested_name(),
                file: m.file,
                deprecated: m.deprecated,
            });
    }
    let mut cur: HashMap<&str, HashSet<&str>> = HashMap::new();
    for m in &ctx.cur.messages {
        cur.entry(ctx.cur.file(m.file).package)
            .or_default()
            .insert(m.nested_name());
    }
    package_member_no_delete(ctx, sink, "message", prev, cur, true);
}

pub(super) fn package_extension_no_delete(ctx: &Ctx<'_, '_, '_>, sink: &mut Sink<'_>) {
    let mut prev: HashMap<&str, Vec<Member<'_>>> = HashMap::new();
    for x in &ctx.prev.extensions {
        prev.entry(ctx.prev.file(x.file).package)
            .or_default()
            .push(Member {
                name: x.nested_name(),
                file: x.file,
                deprecated: x.deprecated,
            });
    }
    let mut cur: HashMap<&str, HashSet<&str>> = HashMap::new();
    for x in &ctx.cur.extensions {
        cur.entry(ctx.cur.file(x.file).package)
            .or_default()
            .insert(x.nested_name());
    }
    package_member_no_delete(ctx, sink, "extension", prev, cur, true);
}

pub(super) fn package_service_no_delete(ctx: &Ctx<'_, '_, '_>, sink: &mut Sink<'_>) {
    let mut prev: HashMap<&str, Vec<Member<'_>>> = HashMap::new();
    for s in &ctx.prev.services {
        prev.entry(ctx.prev.file(s.file).package)
            .or_default()
            .push(Member {
                name: s.name(),
                file: s.file,
                deprecated: s.deprecated,
            });
    }
    // buf's package-to-services map has an entry for every package with a file, even one
    // without services.
    let mut cur: HashMap<&str, HashSet<&str>> = HashMap::new();
    for f in &ctx.cur.files {
        cur.entry(f.package).or_default();
    }
    for s in &ctx.cur.services {
        cur.entry(ctx.cur.file(s.file).package)
            .or_default()
            .insert(s.name());
    }
    package_member_no_delete(ctx, sink, "service", prev, cur, false);
}
