//! The runtime serving a real tonic service in-process: health, reflection, per-call logs,
//! panics and bad input, limits, deadlines, start-up errors, and the graceful drain.

mod calls;
mod deadline;
mod drain;
mod harness;
mod health;
mod probe;
mod reflection;
mod startup;
