//! Rules judging matched services and their RPCs.

use std::collections::HashSet;

use super::{Ctx, MethodPair, ServicePair};
use crate::breaking::descriptor::MethodProto;
use crate::breaking::finding::{Deleted, Deletion, Sink};
use crate::breaking::gofmt::quote;
use crate::breaking::model::{method_name, opt_bool};

pub(super) fn rpc_no_delete(ctx: &Ctx<'_, '_, '_>, pair: ServicePair, sink: &mut Sink<'_>) {
    let prev = &ctx.prev.services[pair.prev as usize];
    let cur = &ctx.cur.services[pair.cur as usize];
    let names: HashSet<&str> = cur.proto.method.iter().map(method_name).collect();
    let mut seen = HashSet::new();
    for method in &prev.proto.method {
        let name = method_name(method);
        if names.contains(name) || !seen.insert(name) {
            continue;
        }
        let deprecated =
            prev.deprecated || opt_bool(method.options.as_ref().and_then(|o| o.deprecated));
        let message = format!(
            "Previously present RPC {} on service {} was deleted.",
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

/// The matched methods, their current service's name and file, and the current method's path.
struct Matched<'a> {
    prev: &'a MethodProto,
    cur: &'a MethodProto,
    service_name: &'a str,
    prev_file: u32,
    cur_file: u32,
    path: Vec<i32>,
}

fn matched<'a>(ctx: &'a Ctx<'_, '_, '_>, pair: MethodPair) -> Matched<'a> {
    let prev = &ctx.prev.services[pair.services.prev as usize];
    let cur = &ctx.cur.services[pair.services.cur as usize];
    let mut path = cur.path.clone();
    path.extend_from_slice(&[2, pair.cur as i32]);
    Matched {
        prev: &prev.proto.method[pair.prev],
        cur: &cur.proto.method[pair.cur],
        service_name: cur.name(),
        prev_file: prev.file,
        cur_file: cur.file,
        path,
    }
}

fn streaming_change(
    ctx: &Ctx<'_, '_, '_>,
    pair: MethodPair,
    sink: &mut Sink<'_>,
    side: &str,
    get: fn(&MethodProto) -> bool,
) {
    let m = matched(ctx, pair);
    let (p, c) = (get(m.prev), get(m.cur));
    if p != c {
        let (from, to) = if c {
            ("unary", "streaming")
        } else {
            ("streaming", "unary")
        };
        let message = format!(
            "RPC {} on service {} changed from {side} {from} to {side} {to}.",
            quote(method_name(m.cur)),
            quote(m.service_name)
        );
        sink.report(ctx.at(m.cur_file, m.path), Some(m.prev_file), message);
    }
}

pub(super) fn same_client_streaming(ctx: &Ctx<'_, '_, '_>, pair: MethodPair, sink: &mut Sink<'_>) {
    streaming_change(ctx, pair, sink, "client", |m| opt_bool(m.client_streaming));
}

pub(super) fn same_server_streaming(ctx: &Ctx<'_, '_, '_>, pair: MethodPair, sink: &mut Sink<'_>) {
    streaming_change(ctx, pair, sink, "server", |m| opt_bool(m.server_streaming));
}

fn idempotency_name(m: &MethodProto) -> String {
    match m
        .options
        .as_ref()
        .and_then(|o| o.idempotency_level)
        .unwrap_or(0)
    {
        0 => "IDEMPOTENCY_UNKNOWN".into(),
        1 => "NO_SIDE_EFFECTS".into(),
        2 => "IDEMPOTENT".into(),
        other => other.to_string(),
    }
}

pub(super) fn same_idempotency_level(ctx: &Ctx<'_, '_, '_>, pair: MethodPair, sink: &mut Sink<'_>) {
    let m = matched(ctx, pair);
    let (p, c) = (idempotency_name(m.prev), idempotency_name(m.cur));
    if p != c {
        let mut path = m.path.clone();
        path.extend_from_slice(&[4, 34]);
        let loc = ctx.first_of(m.cur_file, &[path]);
        let message = format!(
            "RPC {} on service {} changed option \"idempotency_level\" from {} to {}.",
            quote(method_name(m.cur)),
            quote(m.service_name),
            quote(&p),
            quote(&c)
        );
        sink.report(loc, Some(m.prev_file), message);
    }
}

fn type_change(
    ctx: &Ctx<'_, '_, '_>,
    pair: MethodPair,
    sink: &mut Sink<'_>,
    what: &str,
    field: i32,
    get: fn(&MethodProto) -> &str,
) {
    let m = matched(ctx, pair);
    let (p, c) = (get(m.prev), get(m.cur));
    if p != c {
        let (p, c) = (
            p.strip_prefix('.').unwrap_or(p),
            c.strip_prefix('.').unwrap_or(c),
        );
        let mut path = m.path.clone();
        path.push(field);
        let message = format!(
            "RPC {} on service {} changed {what} type from {} to {}.",
            quote(method_name(m.cur)),
            quote(m.service_name),
            quote(p),
            quote(c)
        );
        sink.report(ctx.at(m.cur_file, path), Some(m.prev_file), message);
    }
}

pub(super) fn same_request_type(ctx: &Ctx<'_, '_, '_>, pair: MethodPair, sink: &mut Sink<'_>) {
    type_change(ctx, pair, sink, "request", 2, |m| {
        m.input_type.as_deref().unwrap_or("")
    });
}

pub(super) fn same_response_type(ctx: &Ctx<'_, '_, '_>, pair: MethodPair, sink: &mut Sink<'_>) {
    type_change(ctx, pair, sink, "response", 3, |m| {
        m.output_type.as_deref().unwrap_or("")
    });
}
