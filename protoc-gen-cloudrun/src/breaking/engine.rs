//! Matches previous elements to current ones (by path, full name, number or name) and hands
//! each matched pair to every enabled rule of that kind, so each pair is found once no matter
//! how many rules look at it.

use std::collections::HashMap;

use super::finding::{RawFinding, Sink};
use super::model::Index;
use super::rules::{
    Ctx, EnumPair, EnumValuePair, FieldPair, FilePair, Handler, MessagePair, MethodPair, Rule,
    ServicePair,
};

/// Runs `rules` over two indexed versions and returns what they report.
pub(crate) fn run(rules: &[&'static Rule], prev: &Index<'_>, cur: &Index<'_>) -> Vec<RawFinding> {
    let ctx = Ctx { prev, cur };
    let mut out = Vec::new();

    let mut module = Vec::new();
    let mut file = Vec::new();
    let mut message = Vec::new();
    let mut field = Vec::new();
    let mut enum_ = Vec::new();
    let mut enum_value = Vec::new();
    let mut service = Vec::new();
    let mut method = Vec::new();
    for rule in rules {
        match rule.handler {
            Handler::Module(h) => module.push((rule.id, h)),
            Handler::File(h) => file.push((rule.id, h)),
            Handler::Message(h) => message.push((rule.id, h)),
            Handler::Field(h) => field.push((rule.id, h)),
            Handler::Enum(h) => enum_.push((rule.id, h)),
            Handler::EnumValue(h) => enum_value.push((rule.id, h)),
            Handler::Service(h) => service.push((rule.id, h)),
            Handler::Method(h) => method.push((rule.id, h)),
        }
    }

    for (id, h) in &module {
        h(
            &ctx,
            &mut Sink {
                rule: id,
                out: &mut out,
            },
        );
    }

    if !file.is_empty() {
        for (p, f) in prev.files.iter().enumerate() {
            if let Some(&c) = cur.file_by_path.get(f.path) {
                let pair = FilePair {
                    prev: p as u32,
                    cur: c,
                };
                for (id, h) in &file {
                    h(
                        &ctx,
                        pair,
                        &mut Sink {
                            rule: id,
                            out: &mut out,
                        },
                    );
                }
            }
        }
    }

    if !message.is_empty() || !field.is_empty() {
        for (p, m) in prev.messages.iter().enumerate() {
            let Some(&c) = cur.message_by_name.get(&m.full_name) else {
                continue;
            };
            let pair = MessagePair {
                prev: p as u32,
                cur: c,
            };
            for (id, h) in &message {
                h(
                    &ctx,
                    pair,
                    &mut Sink {
                        rule: id,
                        out: &mut out,
                    },
                );
            }
            if field.is_empty() {
                continue;
            }
            let cur_msg = &cur.messages[c as usize];
            let by_number: HashMap<i32, usize> = cur_msg
                .proto
                .field
                .iter()
                .enumerate()
                .map(|(i, f)| (f.number.unwrap_or(0), i))
                .collect();
            for (i, f) in m.proto.field.iter().enumerate() {
                if let Some(&j) = by_number.get(&f.number.unwrap_or(0)) {
                    let pair = FieldPair {
                        prev: prev.field(p as u32, i),
                        cur: cur.field(c, j),
                    };
                    for (id, h) in &field {
                        h(
                            &ctx,
                            &pair,
                            &mut Sink {
                                rule: id,
                                out: &mut out,
                            },
                        );
                    }
                }
            }
        }
    }

    if !field.is_empty() {
        // Extensions match by what they extend and their number.
        let mut by_key: HashMap<(&str, i32), usize> = HashMap::new();
        for (i, x) in cur.extensions.iter().enumerate() {
            let key = (
                x.proto.extendee.as_deref().unwrap_or(""),
                x.proto.number.unwrap_or(0),
            );
            by_key.entry(key).or_insert(i);
        }
        for (i, x) in prev.extensions.iter().enumerate() {
            let key = (
                x.proto.extendee.as_deref().unwrap_or(""),
                x.proto.number.unwrap_or(0),
            );
            if let Some(&j) = by_key.get(&key) {
                let pair = FieldPair {
                    prev: prev.extension(i),
                    cur: cur.extension(j),
                };
                for (id, h) in &field {
                    h(
                        &ctx,
                        &pair,
                        &mut Sink {
                            rule: id,
                            out: &mut out,
                        },
                    );
                }
            }
        }
    }

    if !enum_.is_empty() || !enum_value.is_empty() {
        for (p, e) in prev.enums.iter().enumerate() {
            let Some(&c) = cur.enum_by_name.get(&e.full_name) else {
                continue;
            };
            let pair = EnumPair {
                prev: p as u32,
                cur: c,
            };
            for (id, h) in &enum_ {
                h(
                    &ctx,
                    pair,
                    &mut Sink {
                        rule: id,
                        out: &mut out,
                    },
                );
            }
            if enum_value.is_empty() {
                continue;
            }
            let group = |values: &[crate::breaking::descriptor::EnumValueProto]| {
                let mut map: HashMap<i32, Vec<usize>> = HashMap::new();
                for (i, v) in values.iter().enumerate() {
                    map.entry(v.number.unwrap_or(0)).or_default().push(i);
                }
                map
            };
            let prev_values = group(&e.proto.value);
            let mut cur_values = group(&cur.enums[c as usize].proto.value);
            for (number, prev_idx) in prev_values {
                if let Some(cur_idx) = cur_values.remove(&number) {
                    let pair = EnumValuePair {
                        enums: pair,
                        prev: prev_idx,
                        cur: cur_idx,
                    };
                    for (id, h) in &enum_value {
                        h(
                            &ctx,
                            &pair,
                            &mut Sink {
                                rule: id,
                                out: &mut out,
                            },
                        );
                    }
                }
            }
        }
    }

    if !service.is_empty() || !method.is_empty() {
        for (p, s) in prev.services.iter().enumerate() {
            let Some(&c) = cur.service_by_name.get(&s.full_name) else {
                continue;
            };
            let pair = ServicePair {
                prev: p as u32,
                cur: c,
            };
            for (id, h) in &service {
                h(
                    &ctx,
                    pair,
                    &mut Sink {
                        rule: id,
                        out: &mut out,
                    },
                );
            }
            if method.is_empty() {
                continue;
            }
            let mut by_name: HashMap<&str, usize> = HashMap::new();
            for (i, m) in cur.services[c as usize].proto.method.iter().enumerate() {
                by_name.entry(m.name.as_deref().unwrap_or("")).or_insert(i);
            }
            for (i, m) in s.proto.method.iter().enumerate() {
                if let Some(&j) = by_name.get(m.name.as_deref().unwrap_or("")) {
                    let pair = MethodPair {
                        services: pair,
                        prev: i,
                        cur: j,
                    };
                    for (id, h) in &method {
                        h(
                            &ctx,
                            pair,
                            &mut Sink {
                                rule: id,
                                out: &mut out,
                            },
                        );
                    }
                }
            }
        }
    }

    out
}
