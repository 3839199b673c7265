//! The runtime serving a real tonic service in-process: health, reflection, per-call logs,
//! panics and bad input, limits, start-up errors, and the graceful drain.

mod calls;
mod drain;
mod harness;
mod health;
mod probe;
mod reflection;
mod startup;
